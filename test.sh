#!/usr/bin/env bash
# Sets everything up, then runs every test: xUnit (unit, golden snapshots, numeric) and lit + FileCheck.
# Tests that read the real models in ../shared/models are skipped (counted, with the reason) when a clone lacks
# them; with CI=true or MOPT_REQUIRE_SHARED_MODELS=1 a missing ../shared/models is a failure instead.
set -uo pipefail
cd "$(dirname "$0")"
scripts/setup.sh || { echo "setup failed"; exit 1; }

status=0
shared_models="$(cd .. && pwd)/shared/models"
if [ ! -d "$shared_models" ] && { [ "${CI:-}" = true ] || [ "${MOPT_REQUIRE_SHARED_MODELS:-}" = 1 ]; }; then
  echo "error: $shared_models is missing, and CI=true or MOPT_REQUIRE_SHARED_MODELS=1 requires it: the tests that read it fail"
  status=1
fi

mkdir -p artifacts/test-results
rm -f artifacts/test-results/unit.trx
echo "== xUnit"
dotnet test tests/Mopt.Tests/Mopt.Tests.csproj -c Release --no-build -nologo \
  --logger "trx;LogFileName=unit.trx" --results-directory artifacts/test-results | tee artifacts/test-results/unit.log || status=1
count() { grep -Eo "$1 *: *[0-9]+" "$2" | tail -1 | grep -Eo '[0-9]+$' || echo 0; }
unit_passed=$(count Passed artifacts/test-results/unit.log)
unit_failed=$(count Failed artifacts/test-results/unit.log)
unit_skipped=$(count Skipped artifacts/test-results/unit.log)

echo "== lit"
python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv --show-unsupported tests/lit | tee artifacts/test-results/lit.log
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
lit_passed=$(count Passed artifacts/test-results/lit.log)
lit_failed=$(count Failed artifacts/test-results/lit.log)
lit_skipped=$(count Unsupported artifacts/test-results/lit.log)

passed=$((unit_passed + lit_passed)); failed=$((unit_failed + lit_failed)); skipped=$((unit_skipped + lit_skipped))
[ "$passed" -gt 0 ] || { echo "no test ran"; status=1; }
if [ "$skipped" -gt 0 ]; then
  echo "== skipped: $skipped ($unit_skipped xUnit, $lit_skipped lit), by reason:"
  # xUnit: the reason each skipped test gives (from the .trx); lit: the features its UNSUPPORTED tests REQUIRE.
  python3 - artifacts/test-results/unit.trx <<'PY'
import collections, sys, xml.etree.ElementTree as ET
ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
reasons = collections.Counter()
try:
    for r in ET.parse(sys.argv[1]).getroot().iter(ns + "UnitTestResult"):
        if r.get("outcome") == "NotExecuted":
            text = " ".join(t.text.strip() for t in r.iter() if t.tag in (ns + "Message", ns + "StdOut") and t.text)
            reasons[text or "no reason given"] += 1
except (OSError, ET.ParseError) as e:
    print(f"  xUnit: cannot read the skip reasons ({e})")
for reason, n in reasons.most_common():
    print(f"  {n} xUnit: {reason}")
PY
  awk '/^Unsupported Tests/ { on = 1; next } on && NF == 0 { on = 0 } on && / :: / { sub(/^.* :: /, ""); print }' \
      artifacts/test-results/lit.log | while read -r t; do
    grep -ho 'REQUIRES: .*' "tests/lit/$t" || echo "REQUIRES: (a feature lit lacks)"
  done | sort | uniq -c | while read -r n req; do
    echo "  $n lit: $req (missing here$( [ -d "$shared_models" ] || echo ": $shared_models not found"))"
  done
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
