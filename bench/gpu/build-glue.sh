#!/usr/bin/env bash
# Builds TorchSharp 0.107's native glue (libLibTorchSharp.so) against the libtorch of the Python torch package on
# this machine, so our .NET build (published with TorchBackend=none) runs on that libtorch, CUDA included.
# The glue's source is TorchSharp's src/Native (0.107.0), brought by bench/gpu/pack.sh into .gpu-kit/ (ignored by
# git: it is a build input, not our code).
#
# Usage: bench/gpu/build-glue.sh [--src DIR] [--out DIR] [--torch-lib DIR --torch-include DIR] [--cmake] [--check]
#   --src       TorchSharp's src/Native folder (default .gpu-kit/torchsharp-native)
#   --out       where libLibTorchSharp.so goes (default .gpu-kit/glue)
#   --torch-lib, --torch-include   libtorch's lib and include folders (default: from `python3 -c 'import torch'`)
#   --cmake     build with TorchSharp's CMakeLists and find_package(Torch) (torch.utils.cmake_prefix_path); the
#               default compiles the sources directly with g++ (needs no CUDA toolkit: the glue calls CUDA only
#               through libtorch), in parallel
#   --check     compile one source file only: proves the flags and headers, in seconds
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/.gpu-kit/torchsharp-native
out=$root/.gpu-kit/glue
torch_lib="" torch_include="" use_cmake=0 check=0
while [ $# -gt 0 ]; do
  case $1 in
    --src) src=$2; shift ;;
    --out) out=$2; shift ;;
    --torch-lib) torch_lib=$2; shift ;;
    --torch-include) torch_include=$2; shift ;;
    --cmake) use_cmake=1 ;;
    --check) check=1 ;;
    *) echo "build-glue.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$src/LibTorchSharp/THSTensor.cpp" ] || { echo "build-glue.sh: no TorchSharp native source in $src (run bench/gpu/pack.sh first)" >&2; exit 1; }

abi=1
if [ -z "$torch_lib" ]; then
  read -r torch_lib torch_include abi prefix < <(python3 - <<'PY'
import os, torch, torch.utils
base = os.path.dirname(torch.__file__)
print(os.path.join(base, "lib"), os.path.join(base, "include"), int(torch.compiled_with_cxx11_abi()), torch.utils.cmake_prefix_path)
PY
)
  export CMAKE_PREFIX_PATH=${prefix}${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
fi
[ -f "$torch_include/torch/csrc/api/include/torch/torch.h" ] || { echo "build-glue.sh: libtorch headers not found under $torch_include" >&2; exit 1; }
mkdir -p "$out"
jobs=$(nproc)
echo "glue: source $src, libtorch $torch_lib, C++11 ABI $abi, $jobs jobs"

if [ $use_cmake = 1 ]; then
  build=$out/cmake-build
  # TorchSharp's own CMakeLists treats warnings as errors and asks for C++14; a newer libtorch needs C++17 and may warn.
  sed -i 's/CXX_STANDARD 14/CXX_STANDARD 17/' "$src/LibTorchSharp/CMakeLists.txt"
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD=17 \
    -DCMAKE_CXX_FLAGS="-Wno-error -w" -DLIBTORCH_PATH="${CMAKE_PREFIX_PATH%%:*}"
  [ "${GLUE_CONFIGURE_ONLY:-0}" = 1 ] && { echo "glue: configured in $build"; exit 0; }
  cmake --build "$build" -j "$jobs"
  cp -f "$(find "$build" -name libLibTorchSharp.so | head -1)" "$out/"
else
  objs=$out/obj
  mkdir -p "$objs"
  flags=(-std=c++17 -O2 -fPIC -fvisibility=hidden -w -D_GLIBCXX_USE_CXX11_ABI=$abi -D__LINUX__ -D_NO_ASYNCRTIMP -D_NO_PPLXIMP
    -I"$src" -I"$src/LibTorchSharp" -I"$torch_include" -I"$torch_include/torch/csrc/api/include")
  mapfile -t sources < <(cd "$src/LibTorchSharp" && ls *.cpp *.c)
  [ $check = 1 ] && sources=(THSStorage.cpp)
  export GLUE_SRC=$src/LibTorchSharp GLUE_OBJ=$objs GLUE_FLAGS="${flags[*]}"
  printf '%s\n' "${sources[@]}" | xargs -P "$jobs" -n 1 bash -c '
    case $1 in
      *.c) cc -O2 -fPIC -w -c "$GLUE_SRC/$1" -o "$GLUE_OBJ/$1.o" ;;
      *) g++ $GLUE_FLAGS -c "$GLUE_SRC/$1" -o "$GLUE_OBJ/$1.o" ;;
    esac || { echo "glue: $1 failed to compile" >&2; exit 255; }' _
  if [ $check = 1 ]; then echo "glue: compile check passed ($(ls "$objs" | wc -l) object)"; exit 0; fi
  # --no-as-needed: keep libtorch_cuda (through libtorch) loaded, so CUDA registers itself with the dispatcher.
  g++ -shared -o "$out/libLibTorchSharp.so" "$objs"/*.o -L"$torch_lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10 \
    -Wl,-rpath,"$torch_lib" -Wl,-Bsymbolic -Wl,-Bsymbolic-functions
fi
echo "glue: built $out/libLibTorchSharp.so ($(du -h "$out/libLibTorchSharp.so" | cut -f1))"
