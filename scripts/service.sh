#!/usr/bin/env bash
# Runs the service in the background in its single-process local mode (API + worker).
#   scripts/service.sh start|stop|status      settings: TPCCMA_PORT (default 5080)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${TPCCMA_PORT:-5080}
pidfile=$root/.local/service.pid
log=$root/.local/service.log
dll=$root/src/TpcCma.Service/bin/Release/net10.0/TpcCma.Service.dll
url=http://127.0.0.1:$port

alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

stop() {
  if alive; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 60); do alive || break; sleep 0.5; done
    alive && kill -9 "$(cat "$pidfile")" || true
    echo "service: stopped"
  fi
  rm -f "$pidfile"
}

start() {
  stop
  [ -f "$dll" ] || { echo "error: $dll missing: run scripts/build.sh" >&2; exit 1; }
  mkdir -p "$root/.local"
  if curl -s -o /dev/null "$url/healthz"; then
    echo "error: something else already answers on $url: set TPCCMA_PORT to another port" >&2
    exit 1
  fi
  # A session of its own, so the service outlives this shell; the shell execs dotnet, so $$ is its pid.
  (cd "$root" && ConnectionStrings__Jobs="$("$root/scripts/postgres.sh" url)" \
     setsid -f sh -c 'echo $$ >"$0"; exec dotnet "$1" --mode all --urls "$2"' "$pidfile" "$dll" "$url" >"$log" 2>&1 </dev/null)
  for _ in $(seq 1 20); do [ -s "$pidfile" ] && break; sleep 0.1; done
  for _ in $(seq 1 120); do
    if curl -sf "$url/healthz" >/dev/null; then echo "service: running at $url (log: $log)"; return 0; fi
    alive || { echo "error: the service exited; last lines of $log:" >&2; tail -20 "$log" >&2; exit 1; }
    sleep 0.5
  done
  echo "error: the service did not become healthy within 60 s; see $log" >&2
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if alive && curl -sf "$url/healthz" >/dev/null; then echo "service: running at $url"; else echo "service: not running"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
