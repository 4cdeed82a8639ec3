#!/usr/bin/env bash
# GPU figures for docs/BENCHMARKS.md ("GPU"): the bf16 matmul peak and the ViT-B-32 training step (the library's
# Trainer with bf16 autocast, and the bare CLIP step) with its model FLOP utilisation, on CUDA device 0.
# Needs: an NVIDIA GPU with its driver, and the TorchSharp-cuda-linux package in the NuGet feed (the build
# selects it with -p:TorchBackend=cuda). Writes JSON and a log to $OUT (or .local/bench/gpu) and prints a summary.
# Usage: bench/gpu/run-gpu.sh [BATCH ...]     (default batches: 64 128 256)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${OUT:-$root/.local/bench/gpu}
mkdir -p "$out"
batches=("$@"); [ ${#batches[@]} -eq 0 ] && batches=(64 128 256)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"

dotnet build -c Release bench/TpcCma.Bench -p:TorchBackend=cuda -v q -nologo >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
bench=bench/TpcCma.Bench/bin/Release/net10.0/tpccma-bench

"$bench" matmul --device cuda --dtype bfloat16 --size 8192 --repeats 20 --json "$out/matmul-bf16.json" | tee -a "$out/run.log"
"$bench" matmul --device cuda --dtype float32 --size 8192 --repeats 20 --json "$out/matmul-fp32.json" | tee -a "$out/run.log"
peak=$(python3 -c "import json; print(json.load(open('$out/matmul-bf16.json'))['median_gflops'])")

for batch in "${batches[@]}"; do
  # Trainer and bare step alternate in two rounds; MFU against the measured bf16 matmul peak.
  "$bench" train --preset ViT-B-32 --batch "$batch" --device cuda --bf16 true --steps 20 --warmup 5 --rounds 2 \
    --peak-gflops "$peak" --json "$out/train-ViT-B-32-bf16-$batch.json" | tee -a "$out/run.log"
done
"$bench" train --preset ViT-B-32 --batch "${batches[0]}" --device cuda --steps 20 --warmup 5 --modes trainer \
  --peak-gflops "$(python3 -c "import json; print(json.load(open('$out/matmul-fp32.json'))['median_gflops'])")" \
  --json "$out/train-ViT-B-32-fp32-${batches[0]}.json" | tee -a "$out/run.log"
echo "results in $out"
