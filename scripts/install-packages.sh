#!/usr/bin/env bash
# Installs the Debian packages mopt's build, tests and benchmarks need (apt-get, only those missing): run by
# scripts/setup.sh and by bench/run.sh, so that a benchmark on a fresh machine finds OpenCV's native dependencies too.
set -euo pipefail

need_apt=()
[ -x /usr/lib/llvm-19/bin/mlir-opt ] || need_apt+=(mlir-19-tools)
[ -x /usr/lib/llvm-19/bin/FileCheck ] || need_apt+=(llvm-19-tools)
[ -x /usr/bin/time ] || need_apt+=(time)
command -v python3 >/dev/null || need_apt+=(python3)
/usr/bin/python3 -c "import numpy, scipy" 2>/dev/null || need_apt+=(python3-numpy python3-scipy) # the lit referees (entropy calibration)
command -v npm >/dev/null || need_apt+=(nodejs npm)
# Graphviz's dot renders --view-op-graph's DOT as SVG (-o graph.svg)
command -v dot >/dev/null || need_apt+=(graphviz)
# The ONNX backend test suite (6 MB): the tests of old opsets and bench/run.sh conformance read it
[ -d /usr/share/libonnx-testdata/data ] || need_apt+=(libonnx-testdata)
# The charts (ScottPlot on SkiaSharp's dependency-free native build, which scans the font folders) need a font for their text
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
# OpenCV's native library (NuGet OpenCvSharp4.official.runtime.linux-x64, the TensorFlow and Caffe referee of the tests and benchmarks) links GTK 3 (with
# pango, cairo, atk, gdk-pixbuf, glib, freetype, harfbuzz, X11), libdrm and libatomic
for lib in libgtk-3.so.0:libgtk-3-0 libdrm.so.2:libdrm2 libatomic.so.1:libatomic1; do
  /sbin/ldconfig -p | grep -q "${lib%%:*} " || need_apt+=("${lib#*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-packages: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
