#!/usr/bin/env bash
# Builds the whole solution (Release). The TorchSharp compatibility patch runs as part of the build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/provision.sh" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build TpcCma.Service.sln -c Release -nologo -v quiet -clp:ErrorsOnly
