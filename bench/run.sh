#!/usr/bin/env bash
# One command per benchmark: bench/run.sh NAME [options]. Builds in Release first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

usage() {
    cat <<'TXT'
usage: bench/run.sh NAME [--mopt-build=jit|r2r|aot] [options]
       bench/run.sh NAME --help          a benchmark's own options

benchmarks:
  parse-print   `mopt-opt in.mir -o out.mir` against `mlir-opt --allow-unregistered-dialect in.mir -o out.mir`
                on a generated ResNet-like module (~1,000 ops, ~91 MB of dense_resource weights):
                median wall time and peak memory of each, the ratios, PASS/FAIL against 1.0x
  onnx-roundtrip
                `mopt-opt model.onnx -o out.onnx` against ONNX Runtime loading the model (ORT_DISABLE_ALL) and
                saving it, on the model zoo's ResNet-18 (69 nodes with BatchNormalization, 46.8 MB of weights):
                the same table, ratios and PASS/FAIL; both outputs checked bit-identical in ONNX Runtime
  deploy        `mopt-opt model.onnx --pipeline=deploy -o out.onnx` against ONNX Runtime's offline optimizer at
                ORT_ENABLE_BASIC on zoo ResNet-18, MobileNetV2, DenseNet-121, an MLP with BatchNormalization and the real models in
                ../shared/models/onnx: node count, latency in ORT (optimizations off, 1 thread), time to optimize,
                max relative output difference; PASS/FAIL per target (--pipeline-override P to try other passes)
  quantize      mopt-opt --round-weights, --quantize-weights and --quantize-int8 (dynamic; calibrated with minmax,
                percentile, entropy on generated .npy samples) on the float model (--pipeline=deploy) of a CNN with
                batch-norms, ResNet-18, MobileNetV2, an MLP and the real models: file and gzip sizes, max relative error and
                top-1 agreement against float, latency in ONNX Runtime (ORT_ENABLE_ALL, 1 thread), time to quantize;
                PASS/FAIL per target (>= 3.9x smaller, top-1 >= 99%, latency <= float, round-weights gzip >= 70%)
  tf            per graph in ../shared/models/tf: node count before and after tf-deploy, mopt's import + write .pb,
                tf-deploy and lowering to .onnx, in process, against OpenCV's dnn importer on the same file (ratio,
                target <= 1.0x); the lowered model in ONNX Runtime against OpenCV's outputs (max relative difference)
  caffe         per net in ../shared/models/caffe: layers in, ONNX nodes after --pipeline=deploy, mopt's import,
                import + deploy + write .onnx and --caffe-merge-bn + write Caffe, in process, against OpenCV's
                ReadNetFromCaffe on the same files (ratio, target <= 1.0x); ONNX Runtime latency before and after
                deploy; the deployed model and the merged net against OpenCV's outputs (max relative difference)
  paddle        per Paddle model (the three real ones, and Caffe and ONNX models written as Paddle with their batch norms):
                mopt's import -> --pipeline=deploy -> write Paddle, in process, against ONNX Runtime creating a session on
                the lowered model (ratio); sizes plain and gzip -9 with and without --round-weights; ONNX Runtime latency
                of the lowered model vs --fold-bn vs deploy (optimizations default and off, 1 and default threads)
  prune         mopt-opt --prune-channels at ratios 0.25 and 0.5 on a MobileNetV2-like and a ResNet-like net trained here on
                scikit-learn's digits (bench/digits/train_digits_prune.py, cached in bench/out/prune): multiply-adds and
                parameters, convs pruned and skipped, top-1 on the held-out digits (no fine-tuning), ONNX Runtime latency
                (1 thread, optimizations default and off) against the unpruned model, time to prune, and the sensitivity
                analysis's time with 1 and 2 workers (when the build has --prune-sensitivity)
  large-model   a 2.5 GB external-data ONNX model (24 Gemm 5120x5120 + BatchNormalization + Relu): `mopt-opt m.onnx -o out.onnx`
                and `--pipeline=deploy` against ONNX Runtime's basic optimizer saving it (C API), each its own process: wall
                and peak RSS, peak / model size, wall ratio; PASS/FAIL (round trip peak <= 0.3x; deploy peak <= 1.1x, wall
                <= 1.5x ORT); outputs checked in ONNX Runtime. --huge --dir DIR: a ~30 GB model (larger than memory)
                round-tripped and quantized (--pipeline=quantize-weights), then deleted
  conformance   the ONNX backend test suite (Debian's libonnx-testdata, installed when missing): every test in ONNX Runtime,
                then, on those ONNX Runtime passes, mopt in process: .onnx -> .onnx, .onnx -> .mir -> .onnx, --pipeline=deploy,
                and the inputs as initializers through --fold-constants --dce, each result in ONNX Runtime against the
                expected outputs (rtol 1e-3, atol 1e-7); counts and failure categories per stage, graphs folded away
                entirely against ONNX Runtime's basic optimizer (--filter S, --stage LIST, --list-failures)

--mopt-build picks the mopt-opt that is timed (tf, caffe, paddle and conformance run mopt in process, as a library: they take no --mopt-build):
  aot   artifacts/mopt-opt/mopt-opt, the command as scripts/setup.sh ships it (Native AOT) (default)
  r2r   dotnet publish -r linux-x64 -p:PublishReadyToRun=true -> artifacts/publish/mopt-opt-r2r/
  jit   artifacts/bin/mopt-opt/release/mopt-opt, the plain Release build
TXT
}

build() {
    # the benchmark's project references the tools it runs, so this builds them too
    dotnet build "$1" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
}

need_torch() { # need_torch WHAT: Debian's PyTorch and scikit-learn, to train WHAT on scikit-learn's digits
    if ! /usr/bin/python3 -c "import torch, sklearn" 2>/dev/null; then
        echo "bench/run.sh: installing python3-torch python3-sklearn (to train $1)" >&2
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch python3-sklearn >/dev/null
    fi
}

publish() { # publish FLAVOUR DIR FLAGS...
    local dir="$2"; shift 2
    echo "publishing mopt-opt ($*) to $dir" >&2
    dotnet publish "$root/tools/mopt-opt/mopt-opt.csproj" -c Release -r linux-x64 -nologo -v quiet -clp:ErrorsOnly -o "$dir" "$@" >&2
}

name="${1:-}"
[ $# -gt 0 ] && shift

flavour=aot
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --mopt-build=*) flavour="${1#--mopt-build=}" ;;
        --mopt-build) flavour="${2:?--mopt-build needs jit, r2r or aot}"; shift ;;
        *) args+=("$1") ;;
    esac
    shift
done

case "$name" in ""|-h|--help|help|list) usage; exit 0 ;; esac

# The Debian packages a fresh machine lacks (OpenCV's native dependencies for tf and caffe, the ONNX test suite for
# conformance): the ones scripts/setup.sh installs, only those missing
"$root/scripts/install-packages.sh" >&2

mopt_args=()
case "$name" in tf|caffe|paddle|conformance) flavour=none ;; esac # mopt runs in the benchmark's own process
# The timed in-process benchmarks (tf, caffe, paddle) run without tiered compilation (their .csproj), so that mopt is fully
# optimized from its first call as in the Native AOT mopt-opt. The framework's own code (collections, LINQ, strings) would
# still run as its precompiled ReadyToRun code, which is never rejitted with tiering off and is slower than the optimized
# code Native AOT compiles it to (10-18% of a caffe run, measured): with DOTNET_ReadyToRun=0 (given to the benchmark only,
# not to the build) it is JIT-compiled fully optimized at its first call too. DOTNET_GCgen0size is mopt-opt's own gen0
# budget (tools/mopt-opt/RuntimeSettings.props), which CoreCLR takes only from the environment.
in_process_env=(DOTNET_ReadyToRun=0 DOTNET_GCgen0size=0x800000)
case "$flavour" in
    none) ;;
    jit) ;;
    r2r) publish r2r "$root/artifacts/publish/mopt-opt-r2r" --self-contained false -p:PublishReadyToRun=true
         mopt_args=(--mopt "$root/artifacts/publish/mopt-opt-r2r/mopt-opt") ;;
    aot) publish aot "$root/artifacts/mopt-opt" -p:PublishAot=true -p:IlcInstructionSet=x86-64-v2
         mopt_args=(--mopt "$root/artifacts/mopt-opt/mopt-opt") ;;
    *) echo "bench/run.sh: --mopt-build is jit, r2r or aot, not '$flavour'" >&2; exit 1 ;;
esac

case "$name" in
    parse-print)
        build "$here/ParsePrint/ParsePrint.csproj"
        exec dotnet "$root/artifacts/bin/ParsePrint/release/ParsePrint.dll" "${mopt_args[@]}" "${args[@]}"
        ;;
    onnx-roundtrip)
        build "$here/OnnxRoundTrip/OnnxRoundTrip.csproj"
        exec dotnet "$root/artifacts/bin/OnnxRoundTrip/release/OnnxRoundTrip.dll" "${mopt_args[@]}" "${args[@]}"
        ;;
    deploy)
        build "$here/DeployCompare/DeployCompare.csproj"
        exec dotnet "$root/artifacts/bin/DeployCompare/release/DeployCompare.dll" "${mopt_args[@]}" "${args[@]}"
        ;;
    quantize)
        # the digits CNN is trained here (bench/digits/train_digits_cnn.py): Debian's PyTorch and scikit-learn
        need_torch "the digits CNN"
        build "$here/Quantize/Quantize.csproj"
        exec dotnet "$root/artifacts/bin/Quantize/release/Quantize.dll" "${mopt_args[@]}" "${args[@]}"
        ;;
    prune)
        # the two nets are trained here (bench/digits/train_digits_prune.py) and cached in the work folder
        need_torch "the pruning benchmark's nets"
        build "$here/Prune/Prune.csproj"
        exec dotnet "$root/artifacts/bin/Prune/release/Prune.dll" "${mopt_args[@]}" "${args[@]}"
        ;;
    tf)
        build "$here/TfBench/TfBench.csproj"
        exec env "${in_process_env[@]}" dotnet "$root/artifacts/bin/TfBench/release/TfBench.dll" "${args[@]}"
        ;;
    caffe)
        build "$here/CaffeBench/CaffeBench.csproj"
        exec env "${in_process_env[@]}" dotnet "$root/artifacts/bin/CaffeBench/release/CaffeBench.dll" "${args[@]}"
        ;;
    paddle)
        build "$here/PaddleBench/PaddleBench.csproj"
        exec env "${in_process_env[@]}" dotnet "$root/artifacts/bin/PaddleBench/release/PaddleBench.dll" "${args[@]}"
        ;;
    large-model)
        build "$here/LargeModel/LargeModel.csproj"
        exec dotnet "$root/artifacts/bin/LargeModel/release/LargeModel.dll" "${mopt_args[@]}" "${args[@]}"
        ;;
    conformance)
        build "$here/Conformance/Conformance.csproj"
        exec dotnet "$root/artifacts/bin/Conformance/release/Conformance.dll" "${args[@]}"
        ;;
    ""|-h|--help|help|list)
        usage
        ;;
    *)
        echo "bench/run.sh: unknown benchmark '$name'" >&2
        usage >&2
        exit 1
        ;;
esac
