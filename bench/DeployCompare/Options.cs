using System.Globalization;

namespace Mopt.Bench.DeployCompare;

public sealed class Options
{
    /// <summary>What every benchmark takes (--mopt, --env, --mopt-arg, --dir, --keep, --strict).</summary>
    public ToolOptions Tool { get; } = new();
    public const double DiffTarget = 1e-5;

    public List<string> Models { get; } = new();
    public string? ModelsDir { get; private set; }
    public int Runs { get; private set; } = 41;
    public int Warmup { get; private set; } = 3;
    public int OptRuns { get; private set; } = 9;
    public double MinRunMs { get; private set; } = 5;
    public int Seed { get; private set; } = 1;
    public string? PipelineOverride { get; private set; }
    public bool InProcess { get; private set; } = true;
    public string Ort { get; private set; } = "both";

    /// <summary>What mopt-opt is given to optimize: <c>--pipeline=deploy</c>, or the override as <c>--pass-pipeline</c>.</summary>
    public string PipelineFlag => PipelineOverride is { } p ? $"--pass-pipeline={p}" : "--pipeline=deploy";
    public string PipelineText => PipelineOverride is { } p ? $"--pass-pipeline={p} (override; the benchmark's target is --pipeline=deploy)" : "--pipeline=deploy";

    public const string Usage = """
        usage: bench/run.sh deploy [options]

        Compares `mopt-opt model.onnx --pipeline=deploy -o out.onnx` with ONNX Runtime's own offline optimizer
        (GraphOptimizationLevel ORT_ENABLE_BASIC + optimized-model file path, which writes standard ONNX) on models with
        batch-norms: the model zoo's ResNet-18, MobileNetV2, DenseNet-121 and an MLP with Gemm + BatchNormalization
        (random, non-trivial BN statistics), and the real models under ../shared/models/onnx that mopt imports (opsets 7-21).
        Per model: node count of each output, its latency in ONNX Runtime with optimizations disabled (1 thread,
        interleaved runs, medians), the time to optimize (whole processes), and the max relative output difference
        to the original model. Targets, mopt-opt against ORT basic: nodes <= ORT's, latency ratio <= 1.00,
        optimize time <= 1.0x, max relative difference <= 1e-5.

          --models A,B,...      which models (default zoo,real): resnet18, mobilenet_v2, densenet121, mlp_bn, small_cnn,
                                `zoo` (the first four), `real` (every importable .onnx under --models-dir), or a real model's folder
                                name (e.g. connxr_mnist)
          --models-dir DIR      the real models (default: ../shared/models/onnx beside the repository)
          --pipeline-override P run mopt-opt with --pass-pipeline=P instead of --pipeline=deploy, e.g.
                                'canonicalize,dce,sort-by-execution-order' (to test the benchmark before deploy's passes exist)
          --runs N              timed inference runs of each output, interleaved (default 41; the issue asks >= 20)
          --warmup N            untimed inference runs of each output first (default 3)
          --min-run-ms MS       a model faster than this per inference is timed over K back-to-back inferences per run,
                                the same K for its three outputs (default 5; 0: always one inference per run)
          --opt-runs N          timed optimize runs of each tool, interleaved, after one warm-up each (default 9)
          --seed N              the seed of the random input (RandomInputs, default 1)
          --no-in-process       skip the in-process optimize times (mopt's library and ORT's C# API in this process)
          --ort native|dotnet|both
                                the ORT optimizer processes to time (default both): `native` is ORT alone, a small C
                                program on the C API (ort-optimize.c, needs cc); `dotnet` is this program's
                                --ort-optimize mode (ORT's C# API in a .NET process). PASS/FAIL uses native when timed.
          --mopt PATH           the mopt-opt to run (default: artifacts/mopt-opt/mopt-opt, as scripts/setup.sh ships it)
          --env K=V             set K=V in mopt-opt's environment (repeatable)
          --mopt-arg ARG        pass ARG to mopt-opt as well (repeatable)
          --dir DIR             work here (default: a new folder in /dev/shm, else in $TMPDIR; removed afterwards)
          --keep                keep the work folder (the exported models and every optimized output)
          --strict              exit 2 when a target is missed (default: exit 0 unless a tool or a check fails)

        internal: --ort-optimize LEVEL IN OUT   ORT's C# API optimizes IN at LEVEL (disable|basic|extended|all) to OUT
        """;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        BenchOptions.ForEach(args, (arg, Value) =>
        {
            int Positive() => BenchOptions.Positive(arg, Value());
            switch (arg)
            {
                case "-h" or "--help": Console.WriteLine(Usage); Environment.Exit(0); break;
                case "--models":
                    o.Models.AddRange(Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--models-dir": o.ModelsDir = Value(); break;
                case "--pipeline-override": o.PipelineOverride = Value(); break;
                case "--runs": o.Runs = Positive(); break;
                case "--warmup": o.Warmup = int.TryParse(Value(), out var w) && w >= 0 ? w : throw new BenchException("--warmup needs a number >= 0"); break;
                case "--opt-runs": o.OptRuns = Positive(); break;
                case "--min-run-ms":
                    o.MinRunMs = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0
                        ? ms : throw new BenchException("--min-run-ms needs a number >= 0");
                    break;
                case "--seed": o.Seed = int.TryParse(Value(), out var s) ? s : throw new BenchException("--seed needs an integer"); break;
                case "--no-in-process": o.InProcess = false; break;
                case "--ort":
                    o.Ort = Value();
                    if (o.Ort is not ("native" or "dotnet" or "both")) throw new BenchException($"--ort: native, dotnet or both, not '{o.Ort}'");
                    break;
                default:
                    if (!o.Tool.TryParse(arg, Value)) throw new BenchException($"unknown option '{arg}'\n{Usage}");
                    break;
            }
        });
        if (o.Models.Count == 0) o.Models.AddRange(["zoo", "real"]);
        return o;
    }
}
