#!/usr/bin/env bash
# Installs what the project needs on Debian 12 and is missing: PostgreSQL 15, and the tools of the
# TorchSharp compatibility step (patchelf, g++, python3). Idempotent; does nothing when all are present.
set -euo pipefail

missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
command -v patchelf >/dev/null || missing+=(patchelf)
command -v g++ >/dev/null || missing+=(g++)
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
for extra in "$@"; do
  case "$extra" in
    chromium) command -v chromium >/dev/null || missing+=(chromium) ;;
    *) dpkg -s "$extra" >/dev/null 2>&1 || missing+=("$extra") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing Debian packages: ${missing[*]}" >&2
  echo "       install them as root: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "provision: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps chromium from pulling a desktop; postgresql-15 needs nothing more.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
