#!/usr/bin/env bash
# A project-local PostgreSQL cluster in a git-ignored folder. Nothing here touches a system service.
#   scripts/postgres.sh start    initialise (first time) and start; create the database; idempotent
#   scripts/postgres.sh stop     stop if running
#   scripts/postgres.sh status   report whether it runs; exit 0 if it does, 3 if not
#   scripts/postgres.sh url      print the connection string
# Settings: TPCCMA_PG_PORT (default 55432), TPCCMA_PG_DIR (default .local/postgres), TPCCMA_PG_DB (tpccma).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${TPCCMA_PG_PORT:-55432}
dir=${TPCCMA_PG_DIR:-$root/.local/postgres}
db=${TPCCMA_PG_DB:-tpccma}
bin=/usr/lib/postgresql/15/bin
data=$dir/data
log=$dir/postgres.log

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=$db;Pooling=true;Maximum Pool Size=50"; }

running() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" >/dev/null 2>&1; }

start() {
  [ -x "$bin/initdb" ] || "$root/scripts/provision.sh"
  mkdir -p "$dir"
  if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    mkdir -p "$data"
    # initdb refuses to run as root: the cluster belongs to the postgres user then.
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$dir"
    as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    echo "postgres: initialised $data"
  fi
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$dir"
  if ! running; then
    # A crash can leave a stale pid file behind; pg_ctl refuses to start over a live one only.
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off" start >/dev/null
    echo "postgres: started on 127.0.0.1:$port"
  fi
  if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
    echo "postgres: created database $db"
  fi
}

stop() {
  if [ -f "$data/PG_VERSION" ] && running; then
    as_owner "$bin/pg_ctl" -D "$data" -w -m fast stop >/dev/null
    echo "postgres: stopped"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "postgres: running on 127.0.0.1:$port ($data)"; else echo "postgres: not running (port $port)"; exit 3; fi ;;
  url) url ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
