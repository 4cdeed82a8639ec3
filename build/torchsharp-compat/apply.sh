#!/usr/bin/env bash
# Makes TorchSharp's native glue load on systems whose libstdc++ predates GCC 13 (Debian 12).
# Usage: apply.sh OUTPUT_DIR [CACHE_DIR]. Patches the copies of libLibTorchSharp.so under OUTPUT_DIR,
# never the NuGet cache. A no-op where the system libstdc++ already provides GLIBCXX_3.4.32.
set -euo pipefail
out_dir=$1
cache_dir=${2:-$out_dir}
here=$(cd "$(dirname "$0")" && pwd)
symbol=_ZSt21ios_base_library_initv
shim=libtpccma_ios_base_library_init.so

libstdcxx=$(/sbin/ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
libstdcxx=${libstdcxx:-/usr/lib/x86_64-linux-gnu/libstdc++.so.6}
if [ ! -e "$libstdcxx" ] || grep -q GLIBCXX_3.4.32 "$libstdcxx"; then
  exit 0
fi

mapfile -t libs < <(find "$out_dir" -name libLibTorchSharp.so -type f 2>/dev/null)
[ ${#libs[@]} -gt 0 ] || exit 0

for tool in patchelf g++ python3; do
  command -v $tool >/dev/null || { echo "error: TorchSharp needs a compatibility patch on this system and '$tool' is missing: run scripts/provision.sh (as root) or apt-get install patchelf g++ python3" >&2; exit 1; }
done

mkdir -p "$cache_dir"
if [ ! -f "$cache_dir/$shim" ] || [ "$here/ios_base_library_init.cpp" -nt "$cache_dir/$shim" ]; then
  g++ -shared -fPIC -O2 -o "$cache_dir/$shim.tmp" "$here/ios_base_library_init.cpp"
  mv "$cache_dir/$shim.tmp" "$cache_dir/$shim"
fi

for lib in "${libs[@]}"; do
  dir=$(dirname "$lib")
  cp -f "$cache_dir/$shim" "$dir/$shim"
  if ! patchelf --print-needed "$lib" | grep -qx "$shim"; then
    patchelf --add-needed "$shim" --clear-symbol-version "$symbol" "$lib"
  fi
  python3 "$here/weaken_version_need.py" "$lib" GLIBCXX_3.4.32 >/dev/null
done
