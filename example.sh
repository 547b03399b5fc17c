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
echo "== int8: mopt-opt examples/small_cnn.mir --pipeline=deploy --quantize-int8='calibration=random:16' --quant-report=artifacts/example/small_cnn.int8.json -o artifacts/example/small_cnn.int8.onnx --verify-against=examples/small_cnn.mir --verify-tolerance=0.05"
"$mopt" examples/small_cnn.mir --pipeline=deploy --quantize-int8='calibration=random:16' \
  --quant-report=artifacts/example/small_cnn.int8.json -o artifacts/example/small_cnn.int8.onnx \
  --verify-against=examples/small_cnn.mir --verify-tolerance=0.05
ls -l artifacts/example/small_cnn.int8.onnx artifacts/example/small_cnn.int8.json
