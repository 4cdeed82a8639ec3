#!/usr/bin/env bash
# Regenerates the training sections of docs/BENCHMARKS.md (between the "training:begin/end" markers; the Loader
# and Metrics sections above them are kept) from one run on this machine:
#   1. matmul peak through TorchSharp (float32, 2048^3)
#   2. training step, tiny (batch 64) and ViT-B-32 (batch 8, 224 px): the library's Trainer and a bare CLIP step
#      against bench/pytorch/clip_step.py (PyTorch + OpenBLAS), alternating, same thread count
#   3. loader throughput at 32 and 224 px (emoji dataset; built once into .local/bench/emoji)
#   4. memory over 500 tiny trainer steps
# Usage: bench/run.sh [--quick]     (--quick: fewer rounds and steps, for trying the script itself)
# Settings: TPCCMA_BENCH_THREADS (2), TPCCMA_BENCH_DATA (a dataset folder instead of the emoji import).
# Results (JSON, logs) go to .local/bench/results/; the whole run takes about 15 minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
threads=${TPCCMA_BENCH_THREADS:-2}
quick=false; [ "${1:-}" = "--quick" ] && quick=true
if $quick; then tiny_rounds=1; tiny_steps=10; vit_rounds=1; vit_steps=2; memory_steps=100; loader_repeats=1
else tiny_rounds=5; tiny_steps=20; vit_rounds=2; vit_steps=3; memory_steps=500; loader_repeats=3; fi
out=$root/.local/bench/results
rm -rf "$out"; mkdir -p "$out"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$out/run.log"; }
load() { cut -d' ' -f1 /proc/loadavg; }

log "building (Release)"
dotnet build -c Release bench/TpcCma.Bench -v q -nologo >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
bench=bench/TpcCma.Bench/bin/Release/net10.0/tpccma-bench

# PyTorch: Debian's python3-torch with OpenBLAS loaded for that process only (its default BLAS is the slow reference one).
python=/usr/bin/python3
"$python" -c "import torch" 2>/dev/null || apt-get install -y python3-torch >"$out/apt.log" 2>&1
blas=$root/.local/openblas/root/usr/lib/x86_64-linux-gnu/openblas-pthread
if [ ! -f "$blas/libblas.so.3" ]; then
  mkdir -p "$root/.local/openblas"
  (cd "$root/.local/openblas" && apt-get download libopenblas0-pthread >/dev/null 2>&1 && dpkg -x libopenblas0-pthread_*.deb root)
fi
# Both sides run with the same OpenMP settings: passive waiting (the library sets it for itself, see
# src/TpcCma.Core/Model/OpenMpWaitPolicy.cs) and the same intra-op thread count; OpenBLAS gets the same threads.
export OMP_WAIT_POLICY=PASSIVE
pytorch() { LD_LIBRARY_PATH=$blas OPENBLAS_NUM_THREADS=$threads "$python" bench/pytorch/clip_step.py --threads "$threads" "$@"; }

{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "cores=$(nproc)"
  echo "memory_gib=$(free -g | awk '/^Mem:/ {print $2}')"
  echo "dotnet=$(dotnet --version)"
  echo "pytorch=$("$python" -c 'import torch; print(torch.__version__)')"
  echo "load_start=$(cat /proc/loadavg | cut -d' ' -f1-3)"
  echo "threads=$threads"
  echo "quick=$quick"
} >"$out/machine.env"

# The matmul peak is measured at the start, before the ViT-B-32 rounds and at the end; load only ever slows a
# run down, so the best of all of them is the ceiling the MFU is stated against.
matmul() {
  log "matmul peak $1 (load $(load))"
  "$bench" matmul --size 2048 --repeats 20 --threads "$threads" --json "$out/matmul-$1.json" | tee -a "$out/run.log"
}
best_peak() { "$python" -c "import glob, json; print(max(json.load(open(p))['peak_gflops'] for p in glob.glob('$out/matmul-*.json')))"; }
matmul 1
peak=$(best_peak)

train_pair() {   # preset batch rounds steps warmup pytorch-modes
  local preset=$1 batch=$2 rounds=$3 steps=$4 warmup=$5 modes=$6
  for r in $(seq 1 "$rounds"); do
    log "$preset round $r: library trainer + bare (load $(load))"
    echo "$(load)" >"$out/load-$preset-$r.txt"
    # Alternate which mode goes first: the trainer's final checkpoint (1.8 GB for ViT-B-32) is still being
    # written back to disk while the next mode runs.
    order=trainer,bare; [ $((r % 2)) -eq 0 ] && order=bare,trainer
    "$bench" train --preset "$preset" --batch "$batch" --steps "$steps" --warmup "$warmup" --threads "$threads" --modes "$order" \
      --peak-gflops "$peak" --json "$out/train-$preset-$r.json" | tee -a "$out/run.log"
    for mode in $modes; do
      log "$preset round $r: pytorch $mode (load $(load))"
      pytorch --preset "$preset" --batch "$batch" --steps "$steps" --warmup "$warmup" --mode "$mode" \
        --json "$out/pytorch-$preset-$mode-$r.json" | tee -a "$out/run.log"
    done
    echo "$(load)" >>"$out/load-$preset-$r.txt"
  done
}
train_pair tiny 64 "$tiny_rounds" "$tiny_steps" 5 "full bare"
matmul 2
peak=$(best_peak)
# PyTorch takes about 30 s per ViT-B-32 step here: only its full step is timed, to keep the run under 20 minutes.
train_pair ViT-B-32 8 "$vit_rounds" "$vit_steps" 1 "full"

data=${TPCCMA_BENCH_DATA:-}
if [ -z "$data" ]; then
  data=$root/.local/bench/emoji
  if [ ! -f "$data.imported" ]; then
    log "importing the emoji dataset into $data (once)"
    rm -rf "$data"
    if dotnet build -c Release src/TpcCma.Cli -v q -nologo >"$out/cli-build.log" 2>&1 \
      && src/TpcCma.Cli/bin/Release/net10.0/tpccma datasets import-emoji --out "$data" >"$out/emoji.log" 2>&1; then
      touch "$data.imported"
    else data=""; fi
  fi
fi
if [ -n "$data" ] && [ -d "$data" ]; then
  for size in 32 224; do
    log "loader $size px (load $(load))"
    repeats=$loader_repeats; [ "$size" = 224 ] && repeats=1
    "$bench" loader --data "$data" --size "$size" --batch 64 --workers 2 --repeats "$repeats" --json "$out/loader-$size.json" | tee -a "$out/run.log"
  done
else
  log "loader skipped: no dataset (see $out/emoji.log)"
fi

log "memory: $memory_steps tiny trainer steps (load $(load))"
"$bench" memory --preset tiny --batch 64 --steps "$memory_steps" --every 50 --threads "$threads" --json "$out/memory.json" | tee -a "$out/run.log"

matmul 3
echo "load_end=$(cat /proc/loadavg | cut -d' ' -f1-3)" >>"$out/machine.env"
"$python" bench/report.py "$out" docs/BENCHMARKS.md
log "wrote docs/BENCHMARKS.md from $out"
