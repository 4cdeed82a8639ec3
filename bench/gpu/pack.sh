#!/usr/bin/env bash
# Makes the GPU device kit in .gpu-kit/carry/ (ignored by git; it travels to the device with the working tree as
# one carry path, 64 MiB at most for everything carried):
#   app.tar.xz          self-contained .NET publish of tpccma + tpccma-bench (linux-x64, invariant globalization),
#                       without libtorch and without TorchSharp's native glue (TorchBackend=none)
#   torchsharp-native/  TorchSharp 0.107.0's src/Native, the glue's source, built on the device by build-glue.sh
#   refdata/            the tiny CLIP's reference inputs (images, captions) and the OpenAI BPE tokenizer (HF parity)
# Usage: bench/gpu/pack.sh [--torchsharp-git GIT_DIR] [--refdata DIR] [--keep-app]
#   GIT_DIR: a clone (or bare mirror) of dotnet/TorchSharp holding commit $torchsharp_commit (0.107.0); not needed
#   when .gpu-kit/carry/torchsharp-native is already there. DIR: the reference data (default ../shared/refdata or
#   TPCCMA_REFDATA). --keep-app: keep an app.tar.xz already made (the publish takes minutes on 2 cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# TorchSharp 0.107.0: the commit whose build/BranchInfo.props says 0.107.0 and whose release notes close 0.107.0;
# its exported THS* functions are those of the libLibTorchSharp.so in the 0.107.0 NuGet package.
torchsharp_commit=c20b6a1cc574d690707638a488d2583f3b8b983f
torchsharp_git=${TORCHSHARP_GIT:-}
refdata=${TPCCMA_REFDATA:-$root/../shared/refdata}
keep_app=0
while [ $# -gt 0 ]; do
  case $1 in
    --torchsharp-git) torchsharp_git=$2; shift ;;
    --refdata) refdata=$2; shift ;;
    --keep-app) keep_app=1 ;;
    *) echo "pack.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
kit=$root/.gpu-kit
carry=$kit/carry
mkdir -p "$carry"

if [ ! -f "$carry/torchsharp-native/LibTorchSharp/THSTensor.cpp" ]; then
  [ -n "$torchsharp_git" ] || { echo "pack.sh: give --torchsharp-git DIR (a dotnet/TorchSharp git dir) to bring the glue source" >&2; exit 1; }
  rm -rf "$carry/torchsharp-native" "$kit/ts-src" && mkdir -p "$kit/ts-src"
  git --git-dir="$torchsharp_git" archive "$torchsharp_commit" src/Native | tar -x -C "$kit/ts-src"
  mv "$kit/ts-src/src/Native" "$carry/torchsharp-native" && rm -rf "$kit/ts-src"
  echo "$torchsharp_commit" > "$carry/torchsharp-native/COMMIT"
fi

if [ -d "$refdata/clip-tiny" ]; then
  rm -rf "$carry/refdata" && mkdir -p "$carry/refdata"
  cp -r "$refdata/clip-tiny/inputs" "$carry/refdata/"
  cp "$refdata/clip-tiny/tokenizer/bpe_simple_vocab_16e6.txt.gz" "$carry/refdata/"
else
  echo "pack.sh: no reference data at $refdata: the HF parity step will be skipped on the device" >&2
fi

stage=$kit/stage/app
if [ $keep_app = 1 ] && [ -f "$carry/app.tar.xz" ]; then
  echo "keeping $carry/app.tar.xz ($(date -r "$carry/app.tar.xz" -u +%FT%TZ))"
else
rm -rf "$kit/stage" && mkdir -p "$stage"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for project in src/TpcCma.Cli bench/TpcCma.Bench; do
  # Its own artifacts folder: the RID-specific, native-less restore must not disturb the normal Release build.
  nice dotnet publish "$project" -c Release -r linux-x64 --self-contained -p:TorchBackend=none \
    -p:InvariantGlobalization=true -p:DebugType=none -p:GenerateDocumentationFile=false \
    --artifacts-path "$kit/build" -o "$stage" -nologo -v quiet -clp:ErrorsOnly
done
if find "$stage" -name 'libtorch*.so' -o -name 'libLibTorchSharp.so' -o -name 'libc10.so' | grep -q .; then
  echo "pack.sh: the publish still holds libtorch natives" >&2; exit 1
fi
tar -C "$kit/stage" -cf - app | nice xz -T2 -6 > "$carry/app.tar.xz.tmp"
mv "$carry/app.tar.xz.tmp" "$carry/app.tar.xz"
echo "publish: $(du -sh "$stage" | cut -f1) unpacked, app.tar.xz $(du -h "$carry/app.tar.xz" | cut -f1)"
fi
total=$(du -sb "$carry" | cut -f1)
echo "kit: $carry, $((total / 1024 / 1024)) MiB (limit 64 MiB with everything else carried)"
# The working tree travels too (about 3 MiB): keep the kit well under the 64 MiB of the whole transfer.
[ "$total" -lt $((56 * 1024 * 1024)) ] || { echo "pack.sh: the kit is over 56 MiB" >&2; exit 1; }
