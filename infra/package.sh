#!/usr/bin/env bash
# Builds every Lambda bootstrap that template.yaml deploys (each function's
# Metadata.BuildProperties.Binary: read from the template, so the two cannot disagree) for arm64
# (Graviton, provided.al2023) as zips and prints their sizes. Its own command (`make package`), not part of every CI run: a release build of the AWS SDKs
# for another architecture takes a long time on 2 cores.
#
#   infra/package.sh           build target/lambda/<binary>/bootstrap.zip for each of the template's functions
#   infra/package.sh --check   only make sure the tools are there (cargo-lambda, zig, arm64 target)
#
# Tools: cargo-lambda from PyPI (`pip install cargo-lambda`, which brings zig as the cross linker:
# no aarch64 gcc needed), installed into the tools virtualenv (infra/lib.sh) when missing; the Rust
# target aarch64-unknown-linux-gnu through rustup when missing. `sam build` uses the same
# cargo-lambda (Metadata BuildMethod rust-cargolambda in template.yaml).
set -euo pipefail

LEENKIES_LOG_TAG="package"
# shellcheck source=infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LEENKIES_REPO"

# The template's functions: `Binary: <name>` under each function's BuildProperties.
mapfile -t BINARIES < <(sed -n 's/^ *Binary: *\([A-Za-z0-9_-]*\) *$/\1/p' template.yaml)
[ "${#BINARIES[@]}" -gt 0 ] || die "no Binary: entries in template.yaml"
TARGET=aarch64-unknown-linux-gnu

ensure_tools() {
  ensure_py_tool cargo-lambda 'cargo-lambda==1.9.2'
  cargo lambda --version
  if ! rustup target list --installed | grep -qx "$TARGET"; then
    log "adding Rust target $TARGET"
    rustup target add "$TARGET" || die "rustup target add $TARGET failed"
  fi
  log "Rust target $TARGET installed"
}

ensure_tools
[ "${1:-}" = "--check" ] && exit 0

target_dir="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bin_args=()
for b in "${BINARIES[@]}"; do bin_args+=(--bin "$b"); done

t0="$(now)"
cargo lambda build --release --arm64 --output-format zip "${bin_args[@]}"
log "built in $(elapsed "$t0")s"

for b in "${BINARIES[@]}"; do
  zip="$target_dir/lambda/$b/bootstrap.zip"
  [ -f "$zip" ] || die "missing $zip"
  printf '%-16s %8s KiB  %s\n' "$b" "$(( $(wc -c <"$zip") / 1024 ))" "$zip"
done
