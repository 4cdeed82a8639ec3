#!/usr/bin/env bash
# The GPU measurements on a machine that has .NET and a NuGet feed serving TorchSharp-cuda-linux (a GPU node of
# our own, Dockerfile.gpu): publishes tpccma + tpccma-bench with the CUDA backend, then runs the same steps as
# the device kit (bench/gpu/run-device.sh: smoke, matmul peak, training steps beside PyTorch, align job, HF
# parity) on that build. Machines without .NET use the kit instead (bench/gpu/README.md).
# Usage: bench/gpu/run-gpu.sh      (results in $OUT or .local/gpu-run)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
app=$root/.local/gpu-app
rm -rf "$app"
for project in src/TpcCma.Cli bench/TpcCma.Bench; do
  dotnet publish "$project" -c Release -r linux-x64 --self-contained -p:TorchBackend=cuda -o "$app" -nologo -v quiet -clp:ErrorsOnly
done
# The CUDA package puts libtorch and the glue beside the app: both come from there.
exec bench/gpu/run-device.sh --app "$app" --glue "$app" --torch-lib "$app"
