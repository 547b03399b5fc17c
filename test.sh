#!/usr/bin/env bash
# Sets everything up, then runs every test: xUnit (unit, golden snapshots, numeric) and lit + FileCheck.
set -uo pipefail
cd "$(dirname "$0")"
scripts/setup.sh || { echo "setup failed"; exit 1; }

status=0
mkdir -p artifacts/test-results
echo "== xUnit"
dotnet test tests/Mopt.Tests/Mopt.Tests.csproj -c Release --no-build -nologo \
  --logger "trx;LogFileName=unit.trx" --results-directory artifacts/test-results | tee artifacts/test-results/unit.log || status=1
unit_passed=$(grep -Eo 'Passed: *[0-9]+' artifacts/test-results/unit.log | tail -1 | grep -Eo '[0-9]+' || echo 0)
unit_failed=$(grep -Eo 'Failed: *[0-9]+' artifacts/test-results/unit.log | tail -1 | grep -Eo '[0-9]+' || echo 0)

echo "== lit"
python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv tests/lit | tee artifacts/test-results/lit.log
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
lit_passed=$(grep -Eo 'Passed *: *[0-9]+' artifacts/test-results/lit.log | grep -Eo '[0-9]+$' || echo 0)
lit_failed=$(grep -Eo 'Failed *: *[0-9]+' artifacts/test-results/lit.log | grep -Eo '[0-9]+$' || echo 0)

passed=$((unit_passed + lit_passed)); failed=$((unit_failed + lit_failed))
[ "$passed" -gt 0 ] || { echo "no test ran"; status=1; }
echo "$passed passed, $failed failed"
exit $status
