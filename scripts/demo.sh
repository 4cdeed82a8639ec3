#!/usr/bin/env bash
# The main job end to end, through the HTTP API as users drive it:
#   provision -> build -> PostgreSQL -> service (API + worker in one process) -> register data ->
#   pre-train a small base CLIP with a CLIP-like modality gap -> alpha_target sweep (0, 0.05, 0.5) ->
#   paper-style table (gaps and reductions, zero-shot accuracy, joint-clustering ARI, captioning CIDEr-D,
#   base and mean-centered base, R^2 analysis), for the open-licence icon sets of @iconify/json (imported with
#   `tpccma datasets import-icons`), then for the emoji data and for synthetic shapes.
# Usage: scripts/demo.sh [--long] [--full] [--data all|icons|emoji|shapes|both] [--seeds "1 2 3"] [--alphas "0,0.05,0.5"].
#   --seeds runs every alpha_target with each seed (intervals over seeds in the tables); --full is the whole protocol
#   of docs/RESULTS.md: the --long budgets, five seeds and the default alpha grid (0 .. 0.7, eight values).
# Safe to run again at any time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
long=0; data=all; seeds=""; alphas="0, 0.05, 0.5"
while [ $# -gt 0 ]; do
  case "$1" in
    --long) long=1 ;;
    --full) long=1; seeds="1 2 3 4 5"; alphas="0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7" ;;
    --data) data=$2; shift ;;
    --seeds) seeds=$2; shift ;;
    --alphas) alphas=$2; shift ;;
    *) echo "usage: $0 [--long] [--full] [--data all|icons|emoji|shapes|both] [--seeds \"1 2 3\"] [--alphas \"0,0.05,0.5\"]" >&2; exit 2 ;;
  esac
  shift
done
case "$data" in all|icons|emoji|shapes|both) ;; *) echo "--data: expected all, icons, emoji, shapes or both, got '$data'" >&2; exit 2 ;; esac
seeds_json=""; align_seed='"seed": 2,'   # with --seeds every job takes its seed from the list
if [ -n "$seeds" ]; then
  for s in $seeds; do case "$s" in ''|*[!0-9]*) echo "--seeds: expected whole numbers, got '$s'" >&2; exit 2 ;; esac; done
  seeds_json="\"seeds\": [$(echo $seeds | sed 's/ /, /g')],"; align_seed=""
fi
port=${TPCCMA_PORT:-5080}
url=http://127.0.0.1:$port
results=$root/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$results" "$root/.local"
started=$(date +%s)

echo "== build"; [ "${TPCCMA_SKIP_BUILD:-}" = 1 ] || scripts/build.sh   # skip only when the Release build is known to be current
echo "== database"; scripts/postgres.sh start
keyfile=$root/.local/admin-key
[ -s "$keyfile" ] || echo "tpc_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$keyfile"
export TPCCMA_URL=$url TPCCMA_API_KEY=$(cat "$keyfile")
echo "== service"; Auth__AdminKey=$TPCCMA_API_KEY TPCCMA_PORT=$port scripts/service.sh start
tpccma() { dotnet "$root/src/TpcCma.Cli/bin/Release/net10.0/tpccma.dll" "$@"; }
api() { curl -sS --fail-with-body -H "Authorization: Bearer $TPCCMA_API_KEY" -H "Content-Type: application/json" "$@"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# Budgets: the default run fits the 15 minutes of a 2-core machine; --long trains for longer and better.
# The default gives shapes the longer pre-training: a small model can learn their semantics, and the task
# effects of alignment (ARI, captioning) only show on a base that has (docs/RESULTS.md). 900 emoji steps
# already make a CLIP-like gap; the emoji categories are not learned within any budget that fits here.
if [ $long = 1 ]; then emoji_steps=6000; shapes_steps=6000; align_steps=1500; caption_steps=400
else emoji_steps=900; shapes_steps=3000; align_steps=300; caption_steps=200; fi
# Icons: the tiny preset, batch 128, lr 1e-3, with the loader's crop augmentation (docs/DATASETS.md, "A base on the icons").
if [ $long = 1 ]; then icons_steps=4000; else icons_steps=2000; fi
emoji_steps=${TPCCMA_PRETRAIN_STEPS:-$emoji_steps}; shapes_steps=${TPCCMA_PRETRAIN_STEPS:-$shapes_steps}
icons_steps=${TPCCMA_PRETRAIN_STEPS:-$icons_steps}
align_steps=${TPCCMA_ALIGN_STEPS:-$align_steps}

run_dataset() {   # NAME DATASET_JSON PRETRAIN_STEPS [MODEL BATCH LR EXTRA_SPEC_FIELDS]
  local name=$1 body=$2 pretrain_steps=$3 out=$results/$1
  local pre_model=${4:-tiny} pre_batch=${5:-64} pre_lr=${6:-5e-4} pre_extra=${7:-}
  mkdir -p "$out"
  echo; echo "==== $name"
  local dataset; dataset=$(api -X POST "$url/v1/datasets" -d "$body" | field id)
  echo "dataset $dataset registered"

  echo "== pre-training the base model (logit scale fixed at 100, as CLIP ends its training)"
  cat >"$out/pretrain.json" <<JSON
{"name": "$name-base", "dataset": "$dataset",
 "spec": {"kind": "pretrain", "model": "$pre_model", "steps": $pretrain_steps, "batch_size": $pre_batch, "lr": $pre_lr,$pre_extra
          "logit_scale": "fixed", "fixed_logit_scale": 100, "log_every": 25, "checkpoint_every": 300, "seed": 1,
          "eval": {"captioning_steps": $caption_steps, "train_sample": 256, "at_phase_boundaries": false}}}
JSON
  local job; job=$(tpccma jobs submit "$out/pretrain.json" --output json | field id)
  tpccma jobs wait "$job" --follow
  local model; model=$(api "$url/v1/models" | python3 -c 'import json,sys; j=sys.argv[1]; print(next(m["id"] for m in json.load(sys.stdin)["data"] if m.get("job")==j))' "$job")
  echo "base model $model (from job $job)"

  echo "== alpha_target sweep $alphas${seeds:+, seeds $seeds} (TPC-CMA curriculum)"
  cat >"$out/sweep.json" <<JSON
{"name": "$name-sweep", "base_model": "$model", "dataset": "$dataset", "alpha_targets": [$alphas], $seeds_json
 "spec": {"kind": "align", "steps": $align_steps, "batch_size": 64, "lr": 1e-4, "log_every": 10, "checkpoint_every": 100, $align_seed
          "eval": {"captioning_steps": $caption_steps, "train_sample": 256}}}
JSON
  local sweep; sweep=$(api -X POST "$url/v1/sweeps" --data-binary @"$out/sweep.json") || { echo "sweep refused: $sweep" >&2; return 1; }
  local sweep_id; sweep_id=$(echo "$sweep" | field id)
  for j in $(echo "$sweep" | python3 -c 'import json,sys; print(" ".join(j["id"] for j in json.load(sys.stdin)["jobs"]))'); do
    tpccma jobs wait "$j" --follow
    for plot in losses alpha gaps; do curl -sS -H "Authorization: Bearer $TPCCMA_API_KEY" -o "$out/$j-$plot.png" "$url/v1/jobs/$j/plots/$plot.png"; done
  done
  api "$url/v1/sweeps/$sweep_id" >"$out/sweep-report.json"
  api "$url/v1/sweeps/$sweep_id/results.json" >"$out/results.json"
  python3 "$root/scripts/sweep_table.py" "$out/sweep-report.json" "$name" | tee "$out/table.md"
}

if [ "$data" = icons ] || [ "$data" = all ]; then
  # Imported by the CLI (the SVG renderer is not part of the service) into the data root, registered by path.
  # The first import fetches @iconify/json once (npm, 104 MB) and draws ~14k icons; later ones draw nothing.
  icons_rel=icons/s48-n10-k100
  if tpccma datasets import-icons --out "$root/.local/data/$icons_rel" --size 48 --min-sets 10 --classes 100; then
    run_dataset icons "{\"name\": \"icons\", \"path\": \"$icons_rel\"}" "$icons_steps" tiny 128 1e-3 \
      ' "augmentation": {"min_scale": 0.7, "max_scale": 1.0, "horizontal_flip": false},'
  else
    echo "!! the icon sets could not be imported (is the npm registry reachable?): going on without them"
  fi
fi
if [ "$data" = emoji ] || [ "$data" = both ] || [ "$data" = all ]; then
  if ! run_dataset emoji '{"name": "emoji", "builtin": {"kind": "emoji", "train_style": "twitter", "eval_style": "google", "emoji_labels": "category"}}' "$emoji_steps"; then
    echo "!! the emoji packages could not be imported (is the npm registry reachable?): using synthetic shapes only"
    data=shapes
  fi
fi
if [ "$data" = shapes ] || [ "$data" = both ] || [ "$data" = all ]; then
  run_dataset shapes '{"name": "shapes", "builtin": {"kind": "synthetic-shapes", "count": 2400, "size": 32, "seed": 7, "shape_labels": "shape_and_colour"}}' "$shapes_steps"
fi


cat "$results"/*/table.md >"$results/RESULTS.md" 2>/dev/null || true
echo
echo "Results:   $results (tables, sweep reports as JSON, loss/alpha/gap plots per job)"
echo "Took:      $(( ($(date +%s) - started) / 60 )) min"
echo "Dashboard: $url/   (sign in with the key in .local/admin-key)"
echo "Swagger:   $url/swagger"
echo "Stop:      scripts/service.sh stop && scripts/postgres.sh stop"
