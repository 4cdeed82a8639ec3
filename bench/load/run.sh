#!/usr/bin/env bash
# Load on one API process (Release build, loopback) and on the worker's metric writer, each run bounded in time:
#   (a) poll:   200 connections polling GET /v1/jobs/{id}
#   (b) submit: 50 job submissions a second (POST /v1/jobs, each one stored and enqueued in Hangfire)
#   (c) ingest: 8 concurrent jobs writing 20 metrics x 100 steps/s each through JobProgressWriter (tpccma-bench ingest)
# Every run reports latency percentiles, throughput and errors (responses outside 2xx, socket errors, server
# exceptions, failed or missing metric rows); the script exits 1 when any run had an error.
# Usage: bench/load/run.sh           settings: TPCCMA_LOAD_SECONDS (30 per run), TPCCMA_LOAD_PORT (5097)
# Results go to .local/load/ (wrk output, the API's log, ingest.json); docs/RELIABILITY.md "Load" has the numbers.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
seconds=${TPCCMA_LOAD_SECONDS:-30}
port=${TPCCMA_LOAD_PORT:-5097}
url=http://127.0.0.1:$port
out=$root/.local/load
pg_bin=/usr/lib/postgresql/15/bin
pg_port=${TPCCMA_PG_PORT:-55432}
database=tpccma_load
admin_key=tpc_load_admin_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
log() { echo "[$(date +%H:%M:%S)] $* (load average $(cut -d' ' -f1 /proc/loadavg))"; }

command -v wrk >/dev/null || scripts/provision.sh
scripts/postgres.sh start >/dev/null
rm -rf "$out"; mkdir -p "$out/data" "$out/artifacts"

log "building (Release): the service and tpccma-bench"
dotnet build -c Release bench/TpcCma.Bench -v q -nologo >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
dll=src/TpcCma.Service/bin/Release/net10.0/TpcCma.Service.dll
bench=bench/TpcCma.Bench/bin/Release/net10.0/tpccma-bench

psql() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
psql -d postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$database;Pooling=true;Maximum Pool Size=50"

api_pid=
cleanup() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  psql -d postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# One API process, no worker. The per-key rate limit (Auth:RequestsPerSecond, 200 by default) is raised: this
# measures the service, and one key at 200 connections would otherwise be answered 429 by design.
log "starting the API on $url"
ConnectionStrings__Jobs=$connection Auth__AdminKey=$admin_key Auth__RequestsPerSecond=1000000 Auth__Burst=1000000 \
  Service__DataRoot=$out/data Service__ArtifactRoot=$out/artifacts \
  dotnet "$dll" --mode api --urls "$url" >"$out/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 120); do
  curl -sf "$url/readyz" >/dev/null && break
  kill -0 "$api_pid" 2>/dev/null || { echo "error: the API exited; see $out/api.log" >&2; tail -20 "$out/api.log" >&2; exit 1; }
  sleep 0.5
done
curl -sf "$url/readyz" >/dev/null || { echo "error: the API did not become ready within 60 s; see $out/api.log" >&2; exit 1; }

# post PATH JSON KEY FIELD: the FIELD of the created resource.
post() {
  curl -sf -X POST "$url$1" -H "Authorization: Bearer $3" -H "Content-Type: application/json" -d "$2" \
    | python3 -c "import json, sys; print(json.load(sys.stdin)['$4'])"
}
key=$(post /v1/keys '{"name": "load"}' "$admin_key" token)
dataset=$(post /v1/datasets '{"name": "shapes", "builtin": {"kind": "synthetic-shapes", "count": 32, "size": 32}}' "$key" id)
cp -r "${TPCCMA_REFDATA:-$root/../shared/refdata}/clip-tiny/hf" "$out/data/clip-tiny-hf"   # the reference tiny CLIP, as the tests use it
model=$(post /v1/models '{"name": "clip-tiny", "reference": "clip-tiny-hf"}' "$key" id)
job=$(post /v1/jobs "{\"base_model\": \"$model\", \"dataset\": \"$dataset\", \"spec\": {\"steps\": 5, \"batch_size\": 8}}" "$key" id)
export TPCCMA_LOAD_KEY=$key TPCCMA_LOAD_JOB=$job TPCCMA_LOAD_MODEL=$model TPCCMA_LOAD_DATASET=$dataset

failed=0
# The API's CPU time (user + system) in ms: per request, it is a cost the other load on a shared machine does not change.
api_cpu_ms() { awk -v tck="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / tck) }' "/proc/$api_pid/stat"; }
# check NAME FILE CPU_MS_BEFORE: prints the RESULT line of a wrk run and the API's CPU per request; fails the
# script when wrk counted any error.
check() {
  local line; line=$(grep '^RESULT ' "$2" || true)
  [ -n "$line" ] || { echo "$1: wrk printed no result; see $2" >&2; failed=1; return; }
  local requests; requests=$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")
  local cpu=$(( $(api_cpu_ms) - $3 ))
  echo "$1: ${line#RESULT } api_cpu_s=$((cpu / 1000)) api_cpu_ms_per_request=$(awk -v c="$cpu" -v r="$requests" 'BEGIN { printf "%.2f", r ? c / r : 0 }')"
  for field in connect read write timeout status; do
    local n; n=$(sed -E "s/.* $field=([0-9]+).*/\1/" <<<"$line")
    [ "$n" -eq 0 ] || { echo "$1: $n $field errors" >&2; failed=1; }
  done
}

# A short untimed warm-up of both paths first: the numbers are of the running service, not of its JIT.
wrk -t1 -c20 -d5s -s bench/load/poll.lua "$url" >"$out/warmup.txt" 2>&1 || true
TPCCMA_LOAD_RATE_PER_THREAD=20 wrk -t1 -c4 -d3s -s bench/load/submit.lua "$url" >>"$out/warmup.txt" 2>&1 || true

log "(a) poll: 200 connections, GET /v1/jobs/{id}, ${seconds} s"
cpu=$(api_cpu_ms)
wrk -t2 -c200 -d"${seconds}s" --timeout 10s -s bench/load/poll.lua "$url" >"$out/poll.txt" 2>&1 || true
check poll "$out/poll.txt" "$cpu"

log "(b) submit: 50 POST /v1/jobs a second, ${seconds} s"
before=$(psql -d "$database" -c "SELECT count(*) FROM jobs")
cpu=$(api_cpu_ms)
TPCCMA_LOAD_RATE_PER_THREAD=50 wrk -t1 -c16 -d"${seconds}s" --timeout 10s -s bench/load/submit.lua "$url" >"$out/submit.txt" 2>&1 || true
check submit "$out/submit.txt" "$cpu"
sleep 1   # requests still in flight when wrk stopped
created=$(psql -d "$database" -c "SELECT count(*) - $before FROM jobs")
unqueued=$(psql -d "$database" -c "SELECT count(*) FROM jobs WHERE \"HangfireJobId\" IS NULL")
answered=$(sed -nE 's/^RESULT requests=([0-9]+).*/\1/p' "$out/submit.txt")
echo "submit: ${answered:-0} answered, $created jobs created, $unqueued jobs without a Hangfire id"
[ "$created" -ge "${answered:-0}" ] || { echo "submit: fewer jobs stored than requests answered" >&2; failed=1; }
[ "$unqueued" -eq 0 ] || { echo "submit: $unqueued jobs were stored but not enqueued" >&2; failed=1; }

exceptions=$(grep -cE '^(fail|crit):' "$out/api.log" || true)
echo "api: $exceptions errors logged (fail/crit)"
[ "$exceptions" -eq 0 ] || { grep -E -A3 '^(fail|crit):' "$out/api.log" | head -40 >&2; failed=1; }
kill "$api_pid"; wait "$api_pid" 2>/dev/null || true; api_pid=

log "(c) ingest: 8 jobs x 20 metrics x 100 steps/s through JobProgressWriter, ${seconds} s"
"$bench" ingest --connection "$(scripts/postgres.sh url)" --jobs 8 --metrics 20 --rate 100 --seconds "$seconds" --json "$out/ingest.json" \
  | tee "$out/ingest.txt" || failed=1

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$failed" -eq 0 ] && log "load: no errors" || { log "load: errors, see above and $out"; exit 1; }
