#!/usr/bin/env bash
# Sets everything up, then runs mopt-opt on the bundled example (a small CNN with batch-norms).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
mopt=artifacts/mopt-opt/mopt-opt
mkdir -p artifacts/example
echo "== mopt-opt examples/small_cnn.mir --pipeline=deploy --pass-statistics -o artifacts/example/small_cnn.opt.mir --verify-against=examples/small_cnn.mir"
"$mopt" examples/small_cnn.mir --pipeline=deploy --pass-statistics -o artifacts/example/small_cnn.opt.mir \
  --verify-against=examples/small_cnn.mir --verify-tolerance=1e-5
echo "== the result (constants over 16 elements elided for reading):"
"$mopt" artifacts/example/small_cnn.opt.mir --elide-constants-larger-than=16
