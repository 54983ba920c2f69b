# Helpers shared by scripts/setup.sh and scripts/services.sh (sourced, not run).
# Ports, folders and the superuser come from the settings module, so the
# shell and Python never disagree about where a service lives.

log() { printf '[ytempire %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[ytempire] error: %s\n' "$*" >&2; exit 1; }

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
PYTHON="$ROOT/.venv/bin/python"
[[ -x "$PYTHON" ]] || die "no Python environment at $ROOT/.venv; run 'make setup' (it runs uv sync)."
eval "$("$PYTHON" -m ytempire.settings --shell)" ||
  die "could not read the settings (python -m ytempire.settings --shell)"

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_port NAME HOST PORT TIMEOUT_S LOGFILE
wait_port() {
  local name=$1 host=$2 port=$3 timeout=$4 logfile=$5 waited=0
  until port_open "$host" "$port"; do
    if ((waited >= timeout)); then
      tail -n 20 "$logfile" >&2 2>/dev/null || true
      die "$name did not open $host:$port within ${timeout}s; see $logfile"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "$name: up on $host:$port (${waited}s)"
}

# stop_pidfile NAME PIDFILE: TERM, then KILL after 30 s.
stop_pidfile() {
  local name=$1 pidfile=$2 pid waited=0
  if [[ ! -f "$pidfile" ]] || ! pid=$(cat "$pidfile") || ! kill -0 "$pid" 2>/dev/null; then
    log "$name: not running"
    rm -f "$pidfile"
    return 0
  fi
  log "$name: stopping (pid $pid)"
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= 30)); then
      log "$name: still up after 30s, killing"
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  rm -f "$pidfile"
}

service_status() {
  if port_open "$2" "$3"; then log "$1: up on $2:$3"; else log "$1: DOWN ($2:$3)"; return 1; fi
}
