using System.Globalization;

namespace Mopt.Bench.Quantize;

public sealed class Options
{
    /// <summary>What every benchmark takes (--mopt, --env, --mopt-arg, --dir, --keep, --strict).</summary>
    public ToolOptions Tool { get; } = new();

    public List<string> Models { get; } = new();
    public List<string> Methods { get; } = new();
    public string? ModelsDir { get; private set; }
    public int Samples { get; private set; } = 32;
    public int EvalSamples { get; private set; } = 50;
    public int Rounds { get; private set; } = 20;
    public int Warmup { get; private set; } = 3;
    public double MinRunMs { get; private set; } = 5;
    /// <summary>Calibration samples mopt-opt's report measures per-layer errors on (its error-samples option); a labelled model uses 32.</summary>
    public int LayerSamples { get; private set; } = 8;
    public int CalibrationSeed { get; private set; } = 1;
    public int EvalSeed { get; private set; } = 2;

    public const string Usage = """
        usage: bench/run.sh quantize [options]

        Runs mopt-opt's weight rounding and int8 quantization on models with batch-norms and on the real models under
        ../shared/models/onnx. Per model, the float model is `mopt-opt model.onnx --pipeline=deploy` (batch-norms
        folded); each method then runs on it with the shipped mopt-opt:
          round-weights     --round-weights=bits=8
          quantize-weights-8  --quantize-weights=bits=8
          quantize-weights-4  --quantize-weights='bits=4 block-size=32'
          dynamic           --quantize-int8
          minmax            --quantize-int8='calibration=DIR method=minmax'
          percentile        --quantize-int8='calibration=DIR method=percentile'
          entropy           --quantize-int8='calibration=DIR method=entropy'
          mse               --quantize-int8='calibration=DIR method=mse'
          auto              --quantize-int8='calibration=DIR method=auto'
          default           --quantize-int8='calibration=DIR' (digits_cnn: MODEL --fold-bn --quantize-int8='calibration=DIR')
        Calibration samples are generated .npy files (smooth random images, normalized as each model expects);
        evaluation inputs use another seed (plus the real test_data_set inputs where a model has them).
        digits_cnn and digits_mlp are trained here on scikit-learn's digits (bench/digits, python3-torch): calibrated on
        training images, evaluated on held-out ones (digits_cnn: top-1 against the labels too).
        Per model and method: file size and gzip -9 size against the float model, max relative output error,
        top-1 agreement (or PSNR for image outputs), latency in ONNX Runtime (ORT_ENABLE_ALL, 1 thread, interleaved
        rounds, medians) against the float model, and the wall time of the quantizing mopt-opt run.
        Targets: int8 file >= 3.9x smaller (4-bit: 6.0x); top-1 agreement >= 99%; int8 latency <= float latency;
        round-weights: whole-file gzip >= 70% smaller and top-1 agreement >= 99%; digits_cnn: a calibrated method
        loses <= 1.0 top-1 point against the labels, the default <= 0.3.

          --models A,B,...      digits_cnn, cnn_bn, small_cnn, resnet18, mobilenet_v2, mlp, digits_mlp,
                                `zoo` (digits_cnn, cnn_bn, resnet18, mobilenet_v2, mlp, digits_mlp),
                                `real` (every importable .onnx under --models-dir) or a real model's folder name
                                (default zoo,real)
          --methods A,B,...     a subset of the methods above (default all)
          --models-dir DIR      the real models (default: ../shared/models/onnx beside the repository)
          --samples N           calibration samples per model (default 32)
          --eval N              generated evaluation samples per model (default 50)
          --rounds N            timed latency rounds (default 20); each round runs every model once, in rotating order
          --layer-samples N     calibration samples the per-layer errors are measured on (default 8; 32 for the labelled model);
                                this runs inside the calibrated methods' mopt-opt runs, so it counts in their time
          --warmup N            untimed latency rounds first (default 3)
          --min-run-ms MS       a model faster than this is timed over K back-to-back inferences per run (default 5)
          --seed N              the calibration inputs' seed (default 1; evaluation uses N + 1)
          --mopt PATH           the mopt-opt to run (default: artifacts/mopt-opt/mopt-opt, as scripts/setup.sh ships it)
          --env K=V             set K=V in mopt-opt's environment (repeatable)
          --mopt-arg ARG        pass ARG to every quantizing mopt-opt run as well (repeatable)
          --dir DIR             work here (default: a new folder in /dev/shm, else in $TMPDIR; removed afterwards)
          --keep                keep the work folder (models, calibration .npy files, every output)
          --strict              exit 2 when a target is missed (default: exit 0 unless a run or a check fails)
        """;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        BenchOptions.ForEach(args, (arg, Value) =>
        {
            int Positive() => BenchOptions.Positive(arg, Value());
            List<string> List() => Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            switch (arg)
            {
                case "-h" or "--help": Console.WriteLine(Usage); Environment.Exit(0); break;
                case "--models": o.Models.AddRange(List()); break;
                case "--methods":
                    var methods = List();
                    foreach (var m in methods)
                        if (QuantMethods.All.All(x => x.Name != m))
                            throw new BenchException($"--methods: unknown method '{m}' ({string.Join(", ", QuantMethods.All.Select(x => x.Name))})");
                    o.Methods.AddRange(methods);
                    break;
                case "--models-dir": o.ModelsDir = Value(); break;
                case "--samples": o.Samples = Positive(); break;
                case "--eval": o.EvalSamples = Positive(); break;
                case "--rounds": o.Rounds = Positive(); break;
                case "--layer-samples": o.LayerSamples = Positive(); break;
                case "--warmup": o.Warmup = int.TryParse(Value(), out var w) && w >= 0 ? w : throw new BenchException("--warmup needs a number >= 0"); break;
                case "--min-run-ms":
                    o.MinRunMs = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0
                        ? ms : throw new BenchException("--min-run-ms needs a number >= 0");
                    break;
                case "--seed":
                    o.CalibrationSeed = int.TryParse(Value(), out var s) ? s : throw new BenchException("--seed needs an integer");
                    o.EvalSeed = o.CalibrationSeed + 1;
                    break;
                default:
                    if (!o.Tool.TryParse(arg, Value)) throw new BenchException($"unknown option '{arg}'\n{Usage}");
                    break;
            }
        });
        if (o.Models.Count == 0) o.Models.AddRange(["zoo", "real"]);
        if (o.Methods.Count == 0) o.Methods.AddRange(QuantMethods.All.Select(m => m.Name));
        return o;
    }
}
