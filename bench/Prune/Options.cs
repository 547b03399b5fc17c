using System.Globalization;

namespace Mopt.Bench.Prune;

public sealed class Options
{
    /// <summary>What every benchmark takes (--mopt, --env, --mopt-arg, --dir, --keep, --strict).</summary>
    public ToolOptions Tool { get; } = new();

    public List<string> Nets { get; } = [];
    public List<double> Ratios { get; } = [];
    public int Rounds { get; private set; } = 31;
    public int Warmup { get; private set; } = 3;
    public int PruneRuns { get; private set; } = 5;
    public int SensitivityRuns { get; private set; } = 1;
    public double MinRunMs { get; private set; } = 5;
    public bool Retrain { get; private set; }

    public const string Usage = """
        usage: bench/run.sh prune [options]

        Channel pruning (mopt-opt --prune-channels, issue 15) on two nets trained here on scikit-learn's 8x8 digits
        (bench/digits/train_digits_prune.py, upsampled to 16x16, python3-torch; trained once, cached in the work folder):
          mobilenet   MobileNetV2-like (inverted residual blocks); params=.*(expand|linear).*weight (the 1x1 convs, as
                      PaddleSlim's MobileNetV2 seed: never the depthwise ones)
          resnet      ResNet-like (basic blocks, identity and projection shortcuts); params=.*weight (every conv)
        Per net and ratio (unpruned, 0.25, 0.5): multiply-adds and parameters from --prune-report (parameters also counted
        from the written file), convs pruned and skipped, top-1 on the held-out digits (no fine-tuning), ONNX Runtime
        latency (1 thread; default optimizations and ORT_DISABLE_ALL; interleaved rounds, medians) against the unpruned
        model in the same run, the time mopt-opt takes to prune (whole command and the pass alone), and the time of the
        sensitivity analysis (--prune-sensitivity) with 1 and 2 workers when this build has it.

          --nets A,B            mobilenet, resnet (default both)
          --ratios R,R          pruning ratios in (0, 1) (default 0.25,0.5)
          --rounds N            timed latency rounds (default 31); each round runs every model once, in rotating order
          --warmup N            untimed latency rounds first (default 3)
          --min-run-ms MS       a model faster than this is timed over K back-to-back inferences per run (default 5)
          --runs N              timed mopt-opt pruning runs per ratio, median (default 5)
          --sensitivity-runs N  timed sensitivity analyses per worker count, median (default 1)
          --retrain             train the nets again even when the work folder has them
          --mopt PATH           the mopt-opt to run (default: artifacts/mopt-opt/mopt-opt, as scripts/setup.sh ships it)
          --env K=V             set K=V in mopt-opt's environment (repeatable)
          --mopt-arg ARG        pass ARG to every pruning mopt-opt run as well (repeatable)
          --dir DIR             work here (default: bench/out/prune; the trained nets are cached there)
          --keep                (accepted for symmetry with the other benchmarks: the work folder is always kept)
          --strict              exit 2 when pruning at a ratio removed no multiply-adds
        """;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        BenchOptions.ForEach(args, (arg, value) =>
        {
            int Positive() => BenchOptions.Positive(arg, value());
            List<string> List() => value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            switch (arg)
            {
                case "-h" or "--help": Console.WriteLine(Usage); Environment.Exit(0); break;
                case "--nets":
                    foreach (var n in List())
                        o.Nets.Add(DigitsNets.Known.Contains(n) ? n : throw new BenchException($"--nets: unknown net '{n}' ({string.Join(", ", DigitsNets.Known)})"));
                    break;
                case "--ratios":
                    foreach (var r in List())
                        o.Ratios.Add(double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x > 0 && x < 1
                            ? x : throw new BenchException($"--ratios: '{r}' is not a ratio in (0, 1)"));
                    break;
                case "--rounds": o.Rounds = Positive(); break;
                case "--warmup": o.Warmup = Positive(); break;
                case "--runs": o.PruneRuns = Positive(); break;
                case "--sensitivity-runs": o.SensitivityRuns = Positive(); break;
                case "--min-run-ms":
                    o.MinRunMs = double.TryParse(value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0
                        ? ms : throw new BenchException("--min-run-ms needs a number >= 0");
                    break;
                case "--retrain": o.Retrain = true; break;
                default:
                    if (!o.Tool.TryParse(arg, value)) throw new BenchException($"unknown option '{arg}'\n{Usage}");
                    break;
            }
        });
        if (o.Nets.Count == 0) o.Nets.AddRange(DigitsNets.Known);
        if (o.Ratios.Count == 0) o.Ratios.AddRange([0.25, 0.5]);
        return o;
    }
}
