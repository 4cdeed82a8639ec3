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

status=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" --results-directory "$results" \
    --blame-hang-timeout 10m ${TPCCMA_TEST_FILTER:+--filter "$TPCCMA_TEST_FILTER"} || status=1
done

passed=0; failed=0
# The deployment files (compose, Kubernetes, Dockerfiles) are checked without an engine: one test.
echo "== deployment files"
if "$root/scripts/check-deploy.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
# The result tables of docs/RESULTS.md are generated from docs/results/*.json: one test that they still agree.
echo "== docs/RESULTS.md tables against docs/results"
if python3 "$root/scripts/render_results.py" --check; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

# Counts come from the test results files; every skipped test is listed with its reason, so a skip is never silent.
read -r p f s < <(python3 "$root/scripts/trx_summary.py" "$results")
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1})); skipped=${s:-0}
# A project that crashed before writing its results still fails the run.
[ $status -ne 0 ] && [ $failed -eq 0 ] && failed=1
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ $status -eq 0 ]
