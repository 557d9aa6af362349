# shellcheck shell=bash
# Helpers shared by the infra/ scripts. Sourced, never executed.
#
# Why a separate file: dynamodb-local.sh, moto.sh and test.sh all need the same answers to
# "where is the repo", "where is the cache", "is this port answering", and "make sure this
# Python tool is installed" — written once here so they cannot drift apart.

# Repo root = the parent of the folder holding this file (no hard-coded absolute paths).
LEENKIES_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Downloaded and generated things (DynamoDB Local's jar, pid files, logs). Git-ignored (/.cache).
LEENKIES_CACHE="${LEENKIES_CACHE:-$LEENKIES_REPO/.cache}"
# Python tools (moto, cfn-lint, aws-sam-cli) go into their own virtualenv so that installing
# them never upgrades or breaks the machine's global packages. It lives outside the repo so a
# fresh clone (CI) on the same machine reuses it; a fresh machine installs it once (~1 min).
LEENKIES_PYTOOLS="${LEENKIES_PYTOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/leenkies/pytools}"

log() { printf '[%s] %s\n' "${LEENKIES_LOG_TAG:-infra}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Monotonic-enough wall clock with sub-second precision, for the timing lines.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# A free TCP port on 127.0.0.1 (the kernel picks it; the tiny race until we bind it is acceptable
# for tests, and lets two test runs on one machine never collide on fixed ports).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# True when something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp: no extra tools).
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when the pid in file $1 is a live process.
pid_alive() {
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Stops the process whose pid is in file $1 (TERM, then KILL after ~10 s), removes the file.
stop_pidfile() {
  local pidfile="$1" pid _
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}

# Puts the tools virtualenv first on PATH (if it exists), so tools installed there win.
use_pytools() {
  if [ -x "$LEENKIES_PYTOOLS/bin/python" ]; then
    case ":$PATH:" in
      *":$LEENKIES_PYTOOLS/bin:"*) ;;
      *) PATH="$LEENKIES_PYTOOLS/bin:$PATH"; export PATH ;;
    esac
  fi
}

# ensure_py_tool COMMAND PIP_SPEC...: installs PIP_SPEC into the tools virtualenv unless COMMAND
# is already on PATH (globally or in the virtualenv). Quiet unless pip fails.
ensure_py_tool() {
  local cmd="$1"; shift
  use_pytools
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [ ! -x "$LEENKIES_PYTOOLS/bin/python" ]; then
    log "creating Python tools virtualenv at $LEENKIES_PYTOOLS"
    mkdir -p "$(dirname "$LEENKIES_PYTOOLS")"
    python3 -m venv "$LEENKIES_PYTOOLS" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$LEENKIES_PYTOOLS/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    use_pytools
  fi
  log "installing $* (for '$cmd') with pip"
  local out
  if ! out="$("$LEENKIES_PYTOOLS/bin/python" -m pip install -q --disable-pip-version-check "$@" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "pip install $* failed"
  fi
  hash -r
  command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' still not found after pip install $*"
}

# ensure_pytools: installs infra/requirements-tools.txt (pinned moto, cfn-lint, aws-sam-cli) into
# the tools virtualenv, unless that exact file was installed there already (a stamp holds its
# hash), and puts the virtualenv first on PATH. ~1 min on a fresh machine, instant afterwards.
ensure_pytools() {
  local req="$LEENKIES_REPO/infra/requirements-tools.txt" stamp want out
  stamp="$LEENKIES_PYTOOLS/.requirements.sha256"
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -x "$LEENKIES_PYTOOLS/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    use_pytools
    return 0
  fi
  if [ ! -x "$LEENKIES_PYTOOLS/bin/python" ]; then
    log "creating Python tools virtualenv at $LEENKIES_PYTOOLS"
    mkdir -p "$(dirname "$LEENKIES_PYTOOLS")"
    python3 -m venv "$LEENKIES_PYTOOLS" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$LEENKIES_PYTOOLS/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  fi
  log "installing $(grep -vE '^(#|$)' "$req" | tr '\n' ' ')with pip"
  if ! out="$("$LEENKIES_PYTOOLS/bin/python" -m pip install -q --disable-pip-version-check -r "$req" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "pip install -r $req failed"
  fi
  echo "$want" >"$stamp"
  use_pytools
  hash -r
}
