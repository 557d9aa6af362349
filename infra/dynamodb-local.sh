#!/usr/bin/env bash
# AWS DynamoDB Local (AWS's own emulator: conditional writes, transactions, GSIs, Streams with
# NEW_AND_OLD_IMAGES) for tests and local runs.
#
#   infra/dynamodb-local.sh start [PORT]   start in the background (default port 8000); reuses one
#                                          already answering on that port; prints its URL
#   infra/dynamodb-local.sh stop [PORT]    stop the instance this script started on PORT
#                                          (no PORT: every instance it started)
#   infra/dynamodb-local.sh url [PORT]     print http://127.0.0.1:PORT
#   infra/dynamodb-local.sh fetch          only download/extract the emulator
#
# Why npm: DynamoDB Local's licence forbids committing the jar, and this machine reaches only
# package registries. The npm package amplify-dynamodb-simulator ships the emulator in
# package/emulator; we `npm pack` it (no install, no scripts run) into the cache and extract that
# folder. Needs java (17 here) and npm. Env: LEENKIES_CACHE (default <repo>/.cache),
# DDB_LOCAL_START_TIMEOUT (seconds, default 60), DDB_LOCAL_JAVA_OPTS (extra JVM options).
set -euo pipefail

LEENKIES_LOG_TAG="dynamodb-local"
# shellcheck source=infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIM_PKG="amplify-dynamodb-simulator@2.9.30"
DDB_DIR="$LEENKIES_CACHE/dynamodb-local"
EMULATOR="$DDB_DIR/emulator"
DEFAULT_PORT=8000

# Downloads and extracts the emulator once; later calls find the jar and return at once.
fetch() {
  [ -f "$EMULATOR/DynamoDBLocal.jar" ] && return 0
  command -v npm >/dev/null 2>&1 || die "npm is needed to fetch DynamoDB Local ($SIM_PKG)"
  local tmp
  mkdir -p "$DDB_DIR"
  tmp="$(mktemp -d "$DDB_DIR/fetch.XXXXXX")"
  log "fetching $SIM_PKG (~55 MB) into $DDB_DIR"
  # npm pack verifies the registry's integrity hash; run it inside tmp so the tarball lands there.
  (cd "$tmp" && npm pack --silent "$SIM_PKG" >/dev/null) || { rm -rf "$tmp"; die "npm pack $SIM_PKG failed"; }
  tar -xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp" package/emulator \
    || { rm -rf "$tmp"; die "could not extract package/emulator"; }
  # Move into place atomically so a half-extracted folder is never mistaken for a good one.
  rm -rf "$EMULATOR"
  mv "$tmp/package/emulator" "$EMULATOR"
  rm -rf "$tmp"
}

# True when DynamoDB answers ListTables on the port. DynamoDB Local accepts any credentials but
# wants an Authorization header, so we send a dummy SigV4-looking one.
answers() {
  curl -sf -o /dev/null --max-time 2 -X POST "http://127.0.0.1:$1/" \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}'
}

start() {
  local port="${1:-$DEFAULT_PORT}" pidfile logfile t0 timeout deadline
  pidfile="$DDB_DIR/$port.pid"
  logfile="$DDB_DIR/$port.log"
  timeout="${DDB_LOCAL_START_TIMEOUT:-60}"

  # Idempotent: an instance (ours or anyone's) already answering on that port is reused.
  if answers "$port"; then
    log "already running on port $port (reused)"
    echo "http://127.0.0.1:$port"
    return 0
  fi
  if port_open "$port"; then
    die "port $port is taken by something that is not DynamoDB; pick another: $0 start PORT"
  fi
  command -v java >/dev/null 2>&1 || die "java is needed (Debian: apt-get install default-jre-headless)"
  fetch
  stop_pidfile "$pidfile"   # a stale pid file from a crashed run

  t0="$(now)"
  # -inMemory: nothing on disk, every start is empty. -sharedDb: one database whatever the
  # access key/region the client signs with. setsid + nohup: survives the calling shell, gets its
  # own process group, so stop can end exactly this process.
  # shellcheck disable=SC2086
  setsid nohup java ${DDB_LOCAL_JAVA_OPTS:-} \
    -Djava.library.path="$EMULATOR/DynamoDBLocal_lib" \
    -jar "$EMULATOR/DynamoDBLocal.jar" \
    -inMemory -sharedDb -disableTelemetry -port "$port" \
    >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"

  deadline=$(( $(date +%s) + timeout ))
  until answers "$port"; do
    if ! pid_alive "$pidfile"; then
      rm -f "$pidfile"
      tail -n 20 "$logfile" >&2 || true
      die "DynamoDB Local exited during start-up (log: $logfile)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 20 "$logfile" >&2 || true
      stop_pidfile "$pidfile"
      die "DynamoDB Local did not answer on port $port within ${timeout}s (log: $logfile)"
    fi
    sleep 0.2
  done
  log "started on port $port in $(elapsed "$t0")s (pid $(cat "$pidfile"), log $logfile)"
  echo "http://127.0.0.1:$port"
}

stop() {
  local f
  if [ $# -ge 1 ]; then
    stop_pidfile "$DDB_DIR/$1.pid"
    return 0
  fi
  for f in "$DDB_DIR"/*.pid; do
    [ -e "$f" ] || continue
    stop_pidfile "$f"
  done
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  url) echo "http://127.0.0.1:${1:-$DEFAULT_PORT}" ;;
  fetch) fetch ;;
  *) echo "usage: $0 start [PORT] | stop [PORT] | url [PORT] | fetch" >&2; exit 2 ;;
esac
