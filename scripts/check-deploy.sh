#!/usr/bin/env bash
# Checks the deployment files without a Docker engine or a cluster, and ends with one line:
# "check-deploy: PASS" (exit 0) or "check-deploy: FAIL (...)" (exit 1).
#   1. docker-compose.yml is valid for Docker Compose (Debian's docker-compose, `config -q`);
#   2. every YAML under deploy/ parses; the Kubernetes objects and the compose file pass scripts/check_deploy.py
#      (probes, one GPU per worker pod, setting names that the service knows, Dockerfile COPY sources, the API
#      image published with TorchBackend=none and the worker image with cpu, each process on its own image);
#   3. deploy/k8s builds with `kubectl kustomize` when kubectl is installed;
#   4. the GPU worker entrypoint counts GPUs right and stops all its workers when one stops.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
failed=()
step() { echo "== $1"; }
fail() { echo "   FAIL: $1"; failed+=("$1"); }

step "docker-compose.yml"
if command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  compose=()
  fail "no docker-compose to validate docker-compose.yml: apt-get install --no-install-recommends docker-compose (scripts/provision.sh)"
fi
if [ ${#compose[@]} -gt 0 ]; then
  for profile in "" cpu; do
    if ! out=$("${compose[@]}" -f docker-compose.yml ${profile:+--profile $profile} config -q 2>&1); then
      fail "docker-compose.yml${profile:+ (profile $profile)} is invalid: $out"
    fi
  done
fi

step "deploy/ YAML, manifests, settings, Dockerfiles"
if ! /usr/bin/env python3 -c 'import yaml' 2>/dev/null; then
  fail "python3 has no PyYAML: apt-get install python3-yaml (scripts/provision.sh)"
elif ! python3 scripts/check_deploy.py; then
  fail "scripts/check_deploy.py found problems (listed above)"
fi

step "kubectl kustomize deploy/k8s"
if command -v kubectl >/dev/null; then
  if ! out=$(kubectl kustomize deploy/k8s 2>&1 >/dev/null); then fail "deploy/k8s does not build: $out"; fi
else
  echo "   kubectl not installed: the YAML parse above stands in for it"
fi

step "GPU worker entrypoint"
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
entry=deploy/docker/gpu-worker-entrypoint.sh
printf '#!/bin/sh\necho "GPU 0: NVIDIA H200 (UUID: GPU-a)"\necho "  MIG 1g.18gb Device 0: (UUID: MIG-a)"\necho "GPU 1: NVIDIA H200 (UUID: GPU-b)"\n' >"$fake/nvidia-smi"
cat >"$fake/dotnet" <<'FAKE'
#!/usr/bin/env bash
echo "start $CUDA_VISIBLE_DEVICES $ASPNETCORE_HTTP_PORTS $Service__WorkerCount $Service__DeviceIndex $*" >>"$FAKE_LOG"
if [ "$CUDA_VISIBLE_DEVICES" = 7 ]; then sleep 0.5; exit 3; fi
trap 'echo "stopped $CUDA_VISIBLE_DEVICES" >>"$FAKE_LOG"; exit 0' TERM
while :; do sleep 0.1; done
FAKE
chmod +x "$fake/nvidia-smi" "$fake/dotnet"
plan() { env TPCCMA_ENTRYPOINT_DRY_RUN=1 PATH="$fake:$PATH" "$@" "$entry" --mode worker 2>/dev/null | grep -c '^slot '; }
[ "$(plan)" = 2 ] || fail "entrypoint: nvidia-smi lists 2 GPUs (and a MIG slice), planned $(plan) workers"
[ "$(plan CUDA_VISIBLE_DEVICES='0, 2,5')" = 3 ] || fail "entrypoint: CUDA_VISIBLE_DEVICES='0, 2,5' should plan 3 workers"
[ "$(plan CUDA_VISIBLE_DEVICES=GPU-x)" = 1 ] || fail "entrypoint: one UUID in CUDA_VISIBLE_DEVICES should plan 1 worker"
if env CUDA_VISIBLE_DEVICES= PATH="$fake:$PATH" "$entry" --mode worker >/dev/null 2>&1; then
  fail "entrypoint: must refuse to start with no GPU visible"
fi
export FAKE_LOG=$fake/log
env CUDA_VISIBLE_DEVICES=4,7,9 PATH="$fake:$PATH" timeout 20 "$entry" --mode worker >/dev/null 2>&1
status=$?
[ $status -eq 3 ] || fail "entrypoint: when one of its workers exits 3 it must exit 3, exited $status"
[ "$(grep -c '^start .* 1 0 /app/TpcCma.Service.dll --mode worker$' "$FAKE_LOG")" = 3 ] || fail "entrypoint: expected 3 workers with WorkerCount 1 and DeviceIndex 0: $(cat "$FAKE_LOG")"
[ "$(grep -c '^stopped' "$FAKE_LOG")" = 2 ] || fail "entrypoint: the two other workers must be stopped: $(cat "$FAKE_LOG")"

if [ ${#failed[@]} -eq 0 ]; then
  echo "check-deploy: PASS"
else
  echo "check-deploy: FAIL (${#failed[@]} problem(s))"
  exit 1
fi
