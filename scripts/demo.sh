#!/usr/bin/env bash
# The main job end to end on a fresh Debian 12 machine with the .NET SDK: provisions what is missing,
# builds, starts the project-local PostgreSQL and the service (API + worker in one process), submits a
# job over HTTP and prints its result. Safe to run again at any time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${TPCCMA_PORT:-5080}
url=http://127.0.0.1:$port

echo "== build"; scripts/build.sh
echo "== database"; scripts/postgres.sh start
echo "== service"; TPCCMA_PORT=$port scripts/service.sh start

echo "== probe: a TorchSharp forward/backward pass on the worker, through the queue"
id=$(curl -sf -X POST "$url/v1/diagnostics/probe?queue=cpu" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 1 60); do
  body=$(curl -sf "$url/v1/diagnostics/probe/$id")
  state=$(echo "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
  [ "$state" = Succeeded ] || [ "$state" = Failed ] && break
  sleep 0.5
done
echo "$body" | python3 -m json.tool

echo
echo "Swagger:  $url/swagger"
echo "Stop:     scripts/service.sh stop && scripts/postgres.sh stop"
