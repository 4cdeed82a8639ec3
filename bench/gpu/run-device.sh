#!/usr/bin/env bash
# The GPU run of issue "The GPU path made real", in one go on a machine with an NVIDIA GPU, Python torch (its
# libtorch inside), transformers, g++ and no .NET: unpack the kit, build TorchSharp's glue against that libtorch,
# CUDA smoke, then the measurements. Writes run.log, steps.tsv and one JSON per measurement to $OUT (or
# .local/gpu-run). bench/gpu/README.md says how to run it; bench/gpu/pack.sh makes the kit it unpacks.
#
# Usage: bench/gpu/run-device.sh [--cpu-rehearsal] [--app DIR] [--glue DIR] [--torch-lib DIR]
#   --cpu-rehearsal  every step on the CPU with small sizes, against the CPU libtorch and glue of this checkout's
#                    Release build (the NuGet ones), so the script is known to work before device time is spent
#   --app DIR        use this published app folder instead of unpacking .gpu-kit/carry/app.tar.xz
#   --glue DIR       a folder holding libLibTorchSharp.so already built (skips build-glue.sh)
#   --torch-lib DIR  libtorch's lib folder (default: that of python3's torch)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
kit=$root/.gpu-kit
out=${OUT:-$root/.local/gpu-run}
rehearsal=0 app="" glue="" torch_lib=""
while [ $# -gt 0 ]; do
  case $1 in
    --cpu-rehearsal) rehearsal=1 ;;
    --app) app=$2; shift ;;
    --glue) glue=$2; shift ;;
    --torch-lib) torch_lib=$2; shift ;;
    *) echo "run-device.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
work=$kit/work          # checkpoints and exported weights: large, kept out of $OUT
mkdir -p "$out" "$work"
exec > >(tee -a "$out/run.log") 2>&1
started=$(date +%s)
printf 'step\tstatus\tseconds\n' > "$out/steps.tsv"
failed=0

# Runs one named step with a time limit, records its status and keeps going (later steps may still measure).
step() {
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s) status=ok
  echo "== $name ($(date -u +%H:%M:%S), limit ${limit}s)"
  timeout "$limit" "$@" || { status="failed($?)"; failed=$((failed + 1)); }
  printf '%s\t%s\t%s\n' "$name" "$status" $(( $(date +%s) - t0 )) >> "$out/steps.tsv"
  echo "-- $name: $status in $(( $(date +%s) - t0 ))s"
  [ "$status" = ok ]
}
# The Python that has torch (and on the device transformers): PYTHON, else python3, else (rehearsal) Debian's.
python=${PYTHON:-python3}
if ! "$python" -c 'import torch' 2>/dev/null && /usr/bin/python3 -c 'import torch' 2>/dev/null; then python=/usr/bin/python3; fi
have_python_torch() { "$python" -c 'import torch' 2>/dev/null; }
have_transformers() { "$python" -c 'import torch, transformers, safetensors' 2>/dev/null; }

if [ $rehearsal = 1 ]; then
  device=cpu; preset=tiny; batches=(8); steps=3; warmup=1; matmul=512; align_preset=tiny; align_batch=8; align_steps=20
  threads_arg=(--threads 2)
else
  device=cuda; preset=ViT-B-32; batches=(256 512); steps=15; warmup=5; matmul=8192; align_preset=ViT-B-32; align_batch=128; align_steps=300
  threads_arg=()
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
fi
echo "run-device: $(date -u +%FT%TZ), device $device, out $out"

# 1. The app: the self-contained publish of tpccma + tpccma-bench (no libtorch inside).
if [ -z "$app" ]; then
  app=$kit/app
  step unpack 120 bash -c "rm -rf '$kit/app' && tar -C '$kit' -xJf '$kit/carry/app.tar.xz'" || exit 1
fi
bench=$app/tpccma-bench tpccma=$app/tpccma

# 2. libtorch and the glue, found by TorchSharp through LD_LIBRARY_PATH (it loads libtorch_cpu / libtorch_cuda and
#    libLibTorchSharp by name).
if [ -z "$torch_lib" ]; then
  if [ $rehearsal = 1 ]; then
    torch_lib=$(ls -d "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/libtorch-cpu-linux-x64/*/runtimes/linux-x64/native | tail -1)
  else
    torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
    "$python" -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' | tee "$out/torch.txt"
  fi
fi
if [ -z "$glue" ]; then
  if [ $rehearsal = 1 ]; then
    # The NuGet glue as this checkout's build patched it, alone in a folder: libtorch must come from $torch_lib.
    glue=$kit/glue-cpu
    mkdir -p "$glue"
    cp -f bench/TpcCma.Bench/bin/Release/net10.0/runtimes/linux-x64/native/{libLibTorchSharp.so,libtpccma_ios_base_library_init.so} "$glue/"
    # The flags and header layout, proven on one file against Debian's libtorch headers where present.
    if [ -f /usr/include/torch/csrc/api/include/torch/torch.h ] && [ "${GLUE_CHECK:-1}" = 1 ]; then
      step glue-compile-check 600 bench/gpu/build-glue.sh --src "$kit/carry/torchsharp-native" --out "$kit/glue-check" \
        --torch-lib /usr/lib/x86_64-linux-gnu --torch-include /usr/include --check
    else
      echo "glue compile check skipped (no libtorch headers here, or GLUE_CHECK=0)"
    fi
  else
    glue=$kit/glue
    step build-glue 300 bench/gpu/build-glue.sh --src "$kit/carry/torchsharp-native" --out "$glue" || { echo "no glue: nothing .NET can run"; }
  fi
fi
export LD_LIBRARY_PATH="$glue:$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export DOTNET_gcServer=0 TPCCMA_CACHE="$work/cache"

# 3. Smoke: the tiny preset's forward and backward on the device equal the CPU's (exit 1 otherwise).
step smoke 180 "$bench" smoke --device "$device" --preset tiny --batch 16 --json "$out/smoke.json"
smoke_ok=$?

# 4. Matmul peaks (bf16 and fp32), the MFU denominators.
step matmul-bf16 120 "$bench" matmul --device "$device" --dtype bfloat16 --size $matmul --repeats 20 "${threads_arg[@]}" --json "$out/matmul-bf16.json"
peak=$(python3 -c "import json; print(json.load(open('$out/matmul-bf16.json'))['peak_gflops'])" 2>/dev/null || echo 0)

# 5. The training step, library (Trainer and bare) and PyTorch eager side by side, bf16, per batch size.
for batch in "${batches[@]}"; do
  if [ $smoke_ok = 0 ]; then
    step "train-$preset-bf16-$batch" 240 "$bench" train --preset "$preset" --batch "$batch" --device "$device" --bf16 true \
      --steps $steps --warmup $warmup --rounds 1 --peak-gflops "$peak" "${threads_arg[@]}" --json "$out/train-$preset-bf16-$batch.json"
  fi
  if have_python_torch; then
    for mode in full bare; do
      step "pytorch-$preset-bf16-$batch-$mode" 180 "$python" bench/pytorch/clip_step.py --preset "$preset" --batch "$batch" --device "$device" --bf16 \
        --mode $mode --steps $steps --warmup $warmup --json "$out/pytorch-$preset-bf16-$batch-$mode.json"
    done
  else
    echo "no python torch: PyTorch side skipped"
  fi
done

# 6. An align job of the real curriculum through `tpccma train` (synthetic pairs), peak GPU memory sampled.
cat > "$out/align-spec.json" <<JSON
{"kind": "align", "model": "$align_preset", "dataset": "synthetic:$((8 * align_batch))", "batch_size": $align_batch,
 "steps": $align_steps, "lr": 1e-5, "log_every": 10, "checkpoint_every": 100000, "seed": 1,
 "tokenizer": "$kit/carry/refdata/bpe_simple_vocab_16e6.txt.gz"}
JSON
sampler=""
if [ $rehearsal = 0 ]; then
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$out/align-gpu-memory-mib.txt" & sampler=$!
fi
if [ $smoke_ok = 0 ]; then
  rm -rf "$work/align"
  step "align-$align_preset" 300 "$tpccma" train --spec "$out/align-spec.json" --out "$work/align" --device "$device" "${threads_arg[@]}"
fi
[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
[ -s "$out/align-gpu-memory-mib.txt" ] && echo "align peak GPU memory: $(sort -n "$out/align-gpu-memory-mib.txt" | tail -1) MiB (nvidia-smi, whole card)" | tee "$out/align-peak-memory.txt"

# 7. Ecosystem: our HF export read by transformers.CLIPModel; embeddings of the reference inputs compared.
parity() {   # NAME MODEL RESOLUTION
  local name=$1 model=$2 resolution=$3 dir=$work/parity-$1
  mkdir -p "$dir"
  step "export-hf-$name" 120 "$tpccma" export --model "$model" --tokenizer "$kit/carry/refdata/bpe_simple_vocab_16e6.txt.gz" --format hf --out "$dir/hf" || return
  if ! have_transformers; then
    # No Python stack here: embed the reference inputs as they are (tiny resolution), so the C# side is proven.
    [ "$resolution" = 32 ] || { echo "no transformers: parity $name skipped"; return; }
    cp "$kit/carry/refdata/inputs/images.safetensors" "$dir/pixels.safetensors"
    python3 -c "import json; print('\n'.join(c['text'] for c in json.load(open('$kit/carry/refdata/inputs/captions.json'))['captions']))" > "$dir/texts.txt"
  else
    step "parity-prepare-$name" 60 "$python" bench/gpu/hf_parity.py prepare --refdata "$kit/carry/refdata" --resolution "$resolution" --out "$dir" || return
  fi
  step "embed-$name" 120 "$tpccma" embed --model "$dir/hf" --images "$dir/pixels.safetensors" --texts "$dir/texts.txt" \
    --out "$dir/ours.safetensors" --device "$device" || return
  if have_transformers; then
    step "parity-$name" 180 "$python" bench/gpu/hf_parity.py compare --hf "$dir/hf" --inputs "$dir" --ours "$dir/ours.safetensors" \
      --device "$device" --json "$out/parity-$name.json"
  else
    echo "no transformers here: the comparison of $name is left to the device"
  fi
}
final=$(ls -d "$work"/align/checkpoints/step_* 2>/dev/null | sort | tail -1)
[ -n "$final" ] && parity "$align_preset-aligned" "$final/model.safetensors" "$(python3 -c "import json; print(json.load(open('src/TpcCma.Core/Model/Presets/$align_preset.json'))['image_resolution'])")"

echo "run-device: done in $(( $(date +%s) - started ))s, $failed step(s) failed"
column -t -s $'\t' "$out/steps.tsv" 2>/dev/null || cat "$out/steps.tsv"
exit $(( failed > 0 ))
