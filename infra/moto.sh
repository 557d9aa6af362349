#!/usr/bin/env bash
# moto in server mode: the SES v2 (and, if ever needed, S3 / Secrets Manager / SQS) stand-in for
# tests and local runs. One process answers every AWS service on one port.
#
#   infra/moto.sh start [PORT]   start in the background (default port 5055); reuses a moto already
#                                answering on that port; prints its URL
#   infra/moto.sh stop [PORT]    stop the instance this script started on PORT (no PORT: all of them)
#   infra/moto.sh url [PORT]     print http://127.0.0.1:PORT
#
# Installs moto[server] with pip (into the tools virtualenv, see lib.sh) when moto_server is missing.
# Env: LEENKIES_CACHE (pid files and logs go to <cache>/moto), MOTO_START_TIMEOUT (s, default 30).
#
# ---------------------------------------------------------------------------------------------
# What Rust tests can rely on (checked here with moto 5.2.1 and 5.2.5; SES v1 and v2 share one
# backend, so everything sits under the top-level key "ses"):
#
#   1. The sender must be verified first: sesv2 CreateEmailIdentity with either the address
#      ("orders@leenkies.example") or its domain ("leenkies.example"). moto marks it verified at
#      once. SendEmail from an unverified address fails with HTTP 400 MessageRejected
#      ("Email address not verified ...").
#   2. SendEmail answers {"MessageId": "<random id>"}.
#   3. GET http://127.0.0.1:PORT/moto-api/data.json returns {"ses": {...}, ...}; sent mail is in
#        Content.Simple  ->  data["ses"]["Message"]:    list of
#            {"id":           the MessageId returned by SendEmail,
#             "source":       FromEmailAddress exactly as sent (e.g. "Leenkies <shop@x.example>"),
#             "destinations": {"ToAddresses": [...], "CcAddresses": [...], "BccAddresses": [...]}
#                             (only the lists that were given),
#             "subject":      Subject.Data,
#             "body":         Body.Html.Data if an HTML part was given, else Body.Text.Data}
#        Content.Raw     ->  data["ses"]["RawMessage"]: list of
#            {"id", "source", "destinations": [flat list: the Destination lists plus the MIME
#             To/Cc/Bcc headers, so an address can appear twice], "raw_data": the MIME text}
#      Neither records ConfigurationSetName, ReplyToAddresses nor the text part of a
#      text+html message. Other keys under "ses": "EmailIdentity", "ConfigurationSet",
#      "TemplateMessage", "BulkTemplateMessage", ...
#   4. POST /moto-api/reset clears every service's state (answers {"status": "ok"}).
# ---------------------------------------------------------------------------------------------
set -euo pipefail

LEENKIES_LOG_TAG="moto"
# shellcheck source=infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_DIR="$LEENKIES_CACHE/moto"
DEFAULT_PORT=5055

# moto's own dashboard API answers only on a moto server: a good "is it moto and is it up" probe.
answers() {
  curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$1/moto-api/data.json"
}

start() {
  local port="${1:-$DEFAULT_PORT}" pidfile logfile t0 timeout deadline
  pidfile="$MOTO_DIR/$port.pid"
  logfile="$MOTO_DIR/$port.log"
  timeout="${MOTO_START_TIMEOUT:-30}"
  mkdir -p "$MOTO_DIR"

  if answers "$port"; then
    log "already running on port $port (reused)"
    echo "http://127.0.0.1:$port"
    return 0
  fi
  if port_open "$port"; then
    die "port $port is taken by something that is not moto; pick another: $0 start PORT"
  fi
  ensure_py_tool moto_server 'moto[server]'
  stop_pidfile "$pidfile"

  t0="$(now)"
  # setsid: own session/process group, so nothing but stop() (by pid) ends it.
  setsid nohup moto_server -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"

  deadline=$(( $(date +%s) + timeout ))
  until answers "$port"; do
    if ! pid_alive "$pidfile"; then
      rm -f "$pidfile"
      tail -n 20 "$logfile" >&2 || true
      die "moto_server exited during start-up (log: $logfile)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 20 "$logfile" >&2 || true
      stop_pidfile "$pidfile"
      die "moto_server did not answer on port $port within ${timeout}s (log: $logfile)"
    fi
    sleep 0.1
  done
  log "started on port $port in $(elapsed "$t0")s (pid $(cat "$pidfile"), log $logfile)"
  echo "http://127.0.0.1:$port"
}

stop() {
  local f
  if [ $# -ge 1 ]; then
    stop_pidfile "$MOTO_DIR/$1.pid"
    return 0
  fi
  for f in "$MOTO_DIR"/*.pid; do
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
  *) echo "usage: $0 start [PORT] | stop [PORT] | url [PORT]" >&2; exit 2 ;;
esac
