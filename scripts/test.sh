#!/usr/bin/env bash
# Runs every test: builds, starts the project-local PostgreSQL, runs each test project, and ends with
# one line "N passed, N failed, N skipped". Exit status 0 only when nothing failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results=$root/.local/test-results
rm -rf "$results"
mkdir -p "$results"

"$root/scripts/build.sh" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
"$root/scripts/postgres.sh" start || { echo "PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }

# Every test process (test hosts, and the service and CLI processes the tests start) lives for seconds to minutes,
# so the runtime's start-up work is most of its CPU: no profile-guided re-JIT (TieredPGO) and no W^X remapping of
# each method it compiles. Measured in docs/BENCHMARKS.md, "Test suite"; the service runs with the defaults elsewhere.
export DOTNET_TieredPGO=0 DOTNET_EnableWriteXorExecute=0

run_project() {
  local name
  name=$(basename "$1" .csproj)
  dotnet test "$1" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" --results-directory "$results" \
    --blame-hang-timeout 10m ${TPCCMA_TEST_FILTER:+--filter "$TPCCMA_TEST_FILTER"}
}

# The projects run side by side: the shorter ones in the background, their output kept and printed after the service
# tests (the longest, whose output is shown as it comes), so the logs do not interleave.
status=0
# The check of docs/RESULTS.md (below) starts now and runs beside the tests.
python3 "$root/scripts/render_results.py" --check > "$results/render-results.log" 2>&1 &
render=$!
others=()
for project in tests/*/*.csproj; do
  [[ $project == */TpcCma.Service.Tests.csproj ]] && continue
  name=$(basename "$project" .csproj)
  run_project "$project" > "$results/$name.log" 2>&1 &
  others+=("$name:$!")
done
echo "== TpcCma.Service.Tests"
run_project tests/TpcCma.Service.Tests/TpcCma.Service.Tests.csproj || status=1
for entry in "${others[@]}"; do
  wait "${entry#*:}" || status=1
  echo "== ${entry%%:*}"
  cat "$results/${entry%%:*}.log"
done

passed=0; failed=0
# The deployment files (compose, Kubernetes, Dockerfiles) are checked without an engine: one test.
echo "== deployment files"
if "$root/scripts/check-deploy.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
# The result tables of docs/RESULTS.md are generated from docs/results/*.json: one test that they still agree (it
# ran beside the test projects).
echo "== docs/RESULTS.md tables against docs/results"
wait "$render"; render_status=$?
cat "$results/render-results.log"
if [ $render_status -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

# Counts come from the test results files; every skipped test is listed with its reason, so a skip is never silent.
read -r p f s < <(python3 "$root/scripts/trx_summary.py" "$results")
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1})); skipped=${s:-0}
# A project that crashed before writing its results still fails the run.
[ $status -ne 0 ] && [ $failed -eq 0 ] && failed=1
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ $status -eq 0 ]
