#!/usr/bin/env bash
# The performance benchmarks in one command (`make bench`), numbers in docs/performance.md.
#
#   infra/bench.sh [--quick] [--only micro,load,store,scale,cold,zip] [--scale 1000,10000,100000]
#                  [--duration SECS] [--rounds N] [--package]
#
#  micro  criterion benches of verify / parse / interpret / merge / deliver per event kind, and
#         instruction counts of the same stages under callgrind (deterministic on a busy machine)
#  load   four servers pinned to core 0 — the webhook router alone on the embedded store, the
#         whole leenkies-local (release), the Node peer (bench/node-peer: http + the official
#         stripe library's constructEvent + a Map), and the floor (the same HTTP stack answering
#         without any work) — driven by bench/loadgen pinned to core 1, in
#         alternating rounds of 32 connections (requests/s) and 1 connection (p50/p99), the same
#         signed fixture bodies with distinct ids; server CPU per request read from /proc
#  store  DynamoDB Local: requests / read / write units per new event and per duplicate, item size
#  scale  DynamoDB Local: first and deepest page of 25 at each --scale (default 1000,10000),
#         and an export job of 100k orders (functions/exports/benches/exports_scale.rs)
#  cold   each Lambda binary, exec to first reply under the Runtime API harness; binary sizes
#  zip    zipped release binary sizes; with --package also the arm64 zips (infra/package.sh, slow)
#
# Everything targets 127.0.0.1 only and stops by itself (bounded durations). DynamoDB Local is
# started on its own free port and stopped at the end. Results: .cache/bench/<time>/ and a table.
set -euo pipefail

LEENKIES_LOG_TAG="bench"
# shellcheck source=infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LEENKIES_REPO"

ONLY="micro,load,store,scale,cold,zip"
SCALE="1000,10000"
DURATION=10
ROUNDS=3
QUICK=0
PACKAGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; DURATION=4; ROUNDS=1 ;;
    --only) ONLY="$2"; shift ;;
    --scale) SCALE="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --rounds) ROUNDS="$2"; shift ;;
    --package) PACKAGE=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

TARGET_DIR="${CARGO_TARGET_DIR:-$LEENKIES_REPO/target}"
export CARGO_TARGET_DIR="$TARGET_DIR"
OUT="$LEENKIES_CACHE/bench/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
FIXTURES="$LEENKIES_REPO/../shared/fixtures/stripe/events"
[ -d "$FIXTURES" ] || FIXTURES="${LEENKIES_SHARED:-$LEENKIES_REPO/../shared}/fixtures/stripe/events"
[ -d "$FIXTURES" ] || die "shared fixtures not found (set LEENKIES_SHARED)"
SECRET="whsec_bench_$(date +%s)"
CORES="$(nproc)"
SERVER_CPU=0
LOADGEN_CPU=$(( CORES > 1 ? 1 : 0 ))

PIDS=()
DDB_PORT=""
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$DDB_PORT" ]; then "$LEENKIES_REPO/infra/dynamodb-local.sh" stop "$DDB_PORT" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

say() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }
machine() {
  say "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/{print $2}') GiB"
  say "load:    $(uptime | sed 's/.*load average: /load average /')   ($(date -u +%FT%TZ))"
  say "rustc:   $(rustc --version)   node: $(node --version 2>/dev/null || echo none)"
}

say "== leenkies benchmarks → $OUT"
machine

# ---------------------------------------------------------------- micro
if wants micro; then
  say ""; say "== micro: criterion (wall time; noisy when the machine is busy)"
  crit_args=(--warm-up-time 1 --measurement-time 3 --noplot)
  [ "$QUICK" = 1 ] && crit_args=(--warm-up-time 0.5 --measurement-time 1 --noplot)
  timeout 1800 cargo bench -q -p leenkies-domain --bench webhook_path -- "${crit_args[@]}" \
    >"$OUT/criterion.txt" 2>&1 || die "criterion failed: see $OUT/criterion.txt"
  # "group/kind  time: [lo mid hi]" → "group/kind mid unit" (not the "change: [..%]" lines)
  awk '/^[a-z_]+\/[a-z._]+/ {name=$1} /time:/ && !/%/ {print name, $(NF-3), $(NF-2)}' "$OUT/criterion.txt" \
    | awk '{printf "  %-52s %8s %s\n", $1, $2, $3}' | tee -a "$SUMMARY"
  machine

  if command -v valgrind >/dev/null 2>&1; then
    say ""; say "== micro: instructions per event (callgrind; deterministic)"
    timeout 1800 cargo build -q --profile profiling -p leenkies-domain --example path_instructions
    ex="$TARGET_DIR/profiling/examples/path_instructions"
    n=200
    say "$(printf '  %-36s %6s %10s %10s %10s %10s %10s' kind bytes verify parse parse+intr deliver_new deliver_dup)"
    for kind in $(ls "$FIXTURES" | sed -n 's/^ord_[0-9]*__[0-9]*__\(.*\)\.json$/\1/p' \
                   | sed 's/\.\(won\|partial_[0-9]\)$//' | sort -u); do
      cg="$OUT/callgrind.$kind.out"
      line="$(timeout 300 valgrind --tool=callgrind --callgrind-out-file="$cg" "$ex" "$kind" "$n" 2>/dev/null)" || continue
      bytes="$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$line")"
      counts="$(callgrind_annotate --inclusive=yes "$cg" 2>/dev/null | awk -v n="$n" '
        /path_instructions::stage_/ { gsub(",", "", $1); f=$0; sub(/.*stage_/, "", f); sub(/[^a-z_].*/, "", f); c[f]=$1/n }
        END { printf "%10.0f %10.0f %10.0f %10.0f %10.0f", c["verify"], c["parse"], c["parse_interpret"], c["deliver_new"], c["deliver_duplicate"] }')"
      say "$(printf '  %-36s %6s %s' "$kind" "$bytes" "$counts")"
    done
  fi
fi

# ---------------------------------------------------------------- load
if wants load; then
  say ""; say "== webhook load: servers on cpu $SERVER_CPU, load generator on cpu $LOADGEN_CPU, ${DURATION}s runs, alternating"
  say "   webhook = the Lambda's router on the embedded store (functions/stripe-webhook/examples/serve_memory.rs)"
  say "   local   = leenkies-local, the whole system in one process (webhook + fulfillment pump + outbox mailer)"
  say "   node    = bench/node-peer: http + stripe@$(node -p 'require("./bench/node-peer/package.json").dependencies.stripe') constructEvent + Map"
  say "   floor   = the webhook's HTTP stack (tokio + hyper/axum) reading the body and answering 200, no work (functions/stripe-webhook/examples/serve_floor.rs)"
  timeout 1800 cargo build -q --release -p leenkies-local -p leenkies-loadgen --bins
  timeout 1800 cargo build -q --release -p stripe-webhook --example serve_memory --example serve_floor
  (cd bench/node-peer && timeout 300 npm ci --no-audit --no-fund --silent) || die "npm ci in bench/node-peer failed"
  declare -A PORT PID
  outbox="$(mktemp -d /dev/shm/leenkies-bench-outbox.XXXXXX 2>/dev/null || mktemp -d)"
  for target in webhook local node floor; do PORT[$target]="$(free_port)"; done
  STRIPE_WEBHOOK_SECRET="$SECRET" taskset -c "$SERVER_CPU" "$TARGET_DIR/release/examples/serve_memory" \
    "127.0.0.1:${PORT[webhook]}" >"$OUT/webhook.log" 2>&1 &
  PID[webhook]=$!
  STRIPE_WEBHOOK_SECRET="$SECRET" taskset -c "$SERVER_CPU" "$TARGET_DIR/release/leenkies-local" \
    --addr "127.0.0.1:${PORT[local]}" --outbox "$outbox" >"$OUT/leenkies-local.log" 2>&1 &
  PID[local]=$!
  STRIPE_WEBHOOK_SECRET="$SECRET" taskset -c "$SERVER_CPU" node bench/node-peer/server.js "${PORT[node]}" \
    >"$OUT/node-peer.log" 2>&1 &
  PID[node]=$!
  taskset -c "$SERVER_CPU" "$TARGET_DIR/release/examples/serve_floor" "127.0.0.1:${PORT[floor]}" \
    >"$OUT/floor.log" 2>&1 &
  PID[floor]=$!
  PIDS+=("${PID[webhook]}" "${PID[local]}" "${PID[node]}" "${PID[floor]}")
  for target in webhook local node floor; do
    for _ in $(seq 1 100); do port_open "${PORT[$target]}" && break; sleep 0.1; done
    port_open "${PORT[$target]}" || die "$target does not listen on ${PORT[$target]} (see $OUT/*.log)"
  done
  loadgen() { # label connections
    timeout $(( DURATION + 60 )) taskset -c "$LOADGEN_CPU" "$TARGET_DIR/release/leenkies-loadgen" \
      --addr "127.0.0.1:${PORT[$1]}" --server-pid "${PID[$1]}" --secret "$SECRET" --fixtures "$FIXTURES" \
      --connections "$2" --duration "$DURATION" --warmup 2 --label "$1" >>"$OUT/load.jsonl"
  }
  for round in $(seq 1 "$ROUNDS"); do
    log "round $round/$ROUNDS (load average $(uptime | sed 's/.*load average: //'))"
    for target in webhook node local floor; do loadgen "$target" 32; loadgen "$target" 1; done
  done
  python3 - "$OUT/load.jsonl" <<'PY' | tee -a "$SUMMARY"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(label, conns, key):
    xs = [r[key] for r in rows if r["label"] == label and r["connections"] == conns]
    return statistics.median(xs) if xs else float("nan")
bad = sum(r["non_200"] + r["connection_errors"] for r in rows)
rounds = len(rows) // 8
print(f"  median of {rounds} round(s); non-200 answers + connection errors: {bad}")
print(f"  {'':34} {'webhook':>9} {'local':>9} {'node':>9} {'floor':>9}  webhook/node  local/node  floor/node")
def line(name, conns, key, fmt, better_high=True):
    w, l, n, f = (med(t, conns, key) for t in ("webhook", "local", "node", "floor"))
    ratio = lambda x: (x / n if better_high else n / x) if x and n else float("nan")
    print(f"  {name:34} {w:>9{fmt}} {l:>9{fmt}} {n:>9{fmt}} {f:>9{fmt}}  {ratio(w):>11.2f}x {ratio(l):>10.2f}x {ratio(f):>10.2f}x")
line("req/s @32 conns (wall)", 32, "rps", ".0f")
line("server CPU µs/request @32", 32, "server_cpu_us_per_request", ".1f", better_high=False)
line("req/s per server core @32 (CPU)", 32, "rps_per_server_core", ".0f")
line("p50 µs @1 conn", 1, "p50_us", ".0f", better_high=False)
line("p99 µs @1 conn", 1, "p99_us", ".0f", better_high=False)
line("p50 µs @32 conns", 32, "p50_us", ".0f", better_high=False)
line("p99 µs @32 conns", 32, "p99_us", ".0f", better_high=False)
line("server CPU µs/request @1", 1, "server_cpu_us_per_request", ".1f", better_high=False)
PY
  say "  emails written by leenkies-local's fulfillment during the run: $(ls "$outbox" | wc -l)"
  for target in webhook local node floor; do kill "${PID[$target]}" 2>/dev/null || true; done
  PIDS=()
  rm -rf "$outbox"
  machine
fi

# ---------------------------------------------------------------- DynamoDB Local
if wants store || wants scale || wants cold; then
  DDB_PORT="$(free_port)"
  # reuse an already fetched emulator (the main checkout's cache) rather than fetching it again
  if [ ! -f "$LEENKIES_CACHE/dynamodb-local/emulator/DynamoDBLocal.jar" ] \
     && [ -f "$LEENKIES_REPO/../main/.cache/dynamodb-local/emulator/DynamoDBLocal.jar" ]; then
    mkdir -p "$LEENKIES_CACHE/dynamodb-local"
    ln -sfn "$LEENKIES_REPO/../main/.cache/dynamodb-local/emulator" "$LEENKIES_CACHE/dynamodb-local/emulator"
  fi
  "$LEENKIES_REPO/infra/dynamodb-local.sh" start "$DDB_PORT" >/dev/null
  export DYNAMODB_ENDPOINT="http://127.0.0.1:$DDB_PORT"
  log "DynamoDB Local on $DYNAMODB_ENDPOINT"
fi
if wants store; then
  say ""
  timeout 1800 cargo bench -q -p leenkies-integration-tests --bench store_cost -- --bench 2>"$OUT/store_cost.err" \
    | tee -a "$SUMMARY" || die "store_cost failed: see $OUT/store_cost.err"
fi
if wants scale; then
  say ""
  timeout 3600 cargo bench -q -p leenkies-integration-tests --bench api_scale -- --bench --scale "$SCALE" \
    2> >(tee "$OUT/api_scale.err" >&2) | tee -a "$SUMMARY" || die "api_scale failed: see $OUT/api_scale.err"
  machine
fi
if wants scale; then
  say ""
  # Export jobs: 100k orders exported by the worker in 5 MiB parts.
  timeout 3600 cargo bench -q -p exports --bench exports_scale -- --bench --orders 100000 \
    2> >(tee "$OUT/exports_scale.err" >&2) | tee -a "$SUMMARY" || die "exports_scale failed: see $OUT/exports_scale.err"
fi
if wants cold; then
  say ""
  timeout 1800 cargo build -q --release -p stripe-webhook -p orders-api -p fulfillment --bins
  runs=15; [ "$QUICK" = 1 ] && runs=5
  timeout 900 cargo bench -q -p leenkies-integration-tests --bench cold_start -- --bench --runs "$runs" \
    2>"$OUT/cold_start.err" | tee -a "$SUMMARY" || die "cold_start failed: see $OUT/cold_start.err"
  machine
fi

# ---------------------------------------------------------------- sizes
if wants zip; then
  say ""; say "== binary and zip sizes (release, this machine's architecture: $(uname -m))"
  timeout 1800 cargo build -q --release -p stripe-webhook -p orders-api -p fulfillment -p leenkies-local --bins
  for b in stripe-webhook orders-api fulfillment leenkies-local; do
    f="$TARGET_DIR/release/$b"
    z="$(python3 -c 'import io,sys,zipfile
b=io.BytesIO(); z=zipfile.ZipFile(b,"w",zipfile.ZIP_DEFLATED,compresslevel=9); z.write(sys.argv[1],"bootstrap"); z.close(); print(len(b.getvalue()))' "$f")"
    say "$(printf '  %-16s binary %6d KiB   zip %6d KiB' "$b" $(( $(wc -c <"$f") / 1024 )) $(( z / 1024 )))"
  done
  if [ "$PACKAGE" = 1 ]; then
    say "  arm64 (cargo lambda build --release --arm64, infra/package.sh):"
    timeout 3600 "$LEENKIES_REPO/infra/package.sh" 2>"$OUT/package.err" | sed 's/^/  /' | tee -a "$SUMMARY"
  fi
fi

say ""; say "== done; everything above is also in $SUMMARY"
