#!/usr/bin/env bash
# Installs what the project needs on Debian 12 and is missing: PostgreSQL 15, the tools of the
# TorchSharp compatibility step (patchelf, g++, python3), moto and PyYAML for the storage and deployment
# checks, Chromium for the dashboard's browser tests, wrk for the load runs. Idempotent; does nothing when all are present.
set -euo pipefail

missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
command -v patchelf >/dev/null || missing+=(patchelf)
command -v g++ >/dev/null || missing+=(g++)
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
# The dashboard's browser tests drive Debian's Chromium through Playwright (no browser is ever downloaded).
command -v chromium >/dev/null || missing+=(chromium)
# The S3 artifact-store tests run a local moto server. Debian ships it as python3-moto from Debian 13 on;
# on Debian 12 it comes from pip (`pip install 'moto[server]'`), and TPCCMA_MOTO_PYTHON can name that Python.
has_moto() {
  for py in "${TPCCMA_MOTO_PYTHON:-}" /usr/bin/python3 python3; do
    [ -n "$py" ] && "$py" -c 'import moto.server' >/dev/null 2>&1 && return 0
  done
  return 1
}
if ! has_moto; then
  if apt-cache show python3-moto >/dev/null 2>&1; then
    missing+=(python3-moto)
  else
    echo "provision: no Python with moto, and this Debian has no python3-moto: the S3 store tests will fail until moto is installed" >&2
  fi
fi
# scripts/check-deploy.sh validates docker-compose.yml (Compose v1 needs no engine) and parses deploy/ with PyYAML.
command -v docker-compose >/dev/null || missing+=(docker-compose)
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || missing+=(python3-yaml)
# bench/load/run.sh drives the API with wrk.
command -v wrk >/dev/null || missing+=(wrk)
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
# --no-install-recommends keeps chromium from pulling a desktop and docker-compose from pulling an engine.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
