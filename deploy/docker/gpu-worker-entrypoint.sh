#!/usr/bin/env bash
# Starts one worker process per GPU this container can see, each owning its GPU alone: CUDA_VISIBLE_DEVICES
# narrowed to that one GPU, Service__DeviceIndex=0, Service__WorkerCount=1, its own node name and HTTP port
# (8080, 8081, ...; the health check watches the first). GPUs come from CUDA_VISIBLE_DEVICES when it is set
# (indices or UUIDs), else from `nvidia-smi -L`. With one GPU the worker simply replaces this script. With
# several, the script forwards SIGTERM/SIGINT to all and, when any one stops, stops the rest and exits with
# its status, so the container restarts as a whole. With no GPU the worker refuses to start: it would take
# GPU jobs and fail each of them.
# TPCCMA_ENTRYPOINT_DRY_RUN=1 prints the plan instead of running it (scripts/check-deploy.sh uses it).
set -euo pipefail

visible_gpus() {
  if [ -n "${CUDA_VISIBLE_DEVICES+set}" ]; then
    case "$CUDA_VISIBLE_DEVICES" in
      "" | -1 | none | void | NoDevFiles) ;;
      *) tr ',' '\n' <<<"$CUDA_VISIBLE_DEVICES" | tr -d ' \t' | grep . || true ;;
    esac
  elif command -v nvidia-smi >/dev/null 2>&1; then
    # Whole GPUs only ("GPU 0: NVIDIA H200 (UUID: GPU-...)"); MIG slices are listed indented beneath them.
    nvidia-smi -L 2>/dev/null | sed -n 's/^GPU \([0-9][0-9]*\):.*/\1/p'
  fi
}

mapfile -t gpus < <(visible_gpus)
if [ ${#gpus[@]} -eq 0 ]; then
  echo "gpu-worker: no GPU visible (CUDA_VISIBLE_DEVICES='${CUDA_VISIBLE_DEVICES-unset}'; nvidia-smi $(command -v nvidia-smi >/dev/null && echo 'lists none' || echo 'is missing'))." >&2
  echo "            Run with --gpus all (Docker) or an nvidia.com/gpu limit (Kubernetes)." >&2
  exit 1
fi

dll=${TPCCMA_SERVICE_DLL:-/app/TpcCma.Service.dll}
base_port=${ASPNETCORE_HTTP_PORTS:-8080}
node=${Service__NodeName:-$(hostname)}
echo "gpu-worker: ${#gpus[@]} GPU(s) (${gpus[*]}), queue(s) ${Service__Queues__0:-gpu}${Service__Queues__1:+,$Service__Queues__1}" >&2

# run_one SLOT: the worker for the SLOT-th visible GPU, in the foreground of the calling (sub)shell.
run_one() {
  local slot=$1
  shift
  export CUDA_VISIBLE_DEVICES=${gpus[$slot]} Service__DeviceIndex=0 Service__WorkerCount=1
  export ASPNETCORE_HTTP_PORTS=$((base_port + slot))
  export Service__NodeName=$node-gpu$slot
  [ ${#gpus[@]} -eq 1 ] && export Service__NodeName=$node
  if [ "${TPCCMA_ENTRYPOINT_DRY_RUN:-0}" = 1 ]; then
    echo "slot $slot: CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES port=$ASPNETCORE_HTTP_PORTS node=$Service__NodeName: dotnet $dll $*"
    return 0
  fi
  exec dotnet "$dll" "$@"
}

if [ ${#gpus[@]} -eq 1 ]; then
  run_one 0 "$@"
  exit 0
fi
if [ "${TPCCMA_ENTRYPOINT_DRY_RUN:-0}" = 1 ]; then
  for slot in "${!gpus[@]}"; do (run_one "$slot" "$@"); done
  exit 0
fi

pids=()
stop_all() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; }
trap 'stop_all' TERM INT
for slot in "${!gpus[@]}"; do
  (run_one "$slot" "$@") &
  pids+=($!)
done
status=0
wait -n "${pids[@]}" || status=$?
stop_all
wait "${pids[@]}" 2>/dev/null || true
exit $status
