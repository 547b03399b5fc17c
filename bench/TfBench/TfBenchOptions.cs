namespace Mopt.Bench.Tf;

/// <summary>bench/run.sh tf's options.</summary>
public sealed class TfBenchOptions
{
    public int Runs { get; private set; } = 21;
    public int Warmup { get; private set; } = 10;
    public string? Models { get; private set; }
    public string? Dir { get; private set; }
    public bool Keep { get; private set; }
    public bool Strict { get; private set; }
    public List<string> Only { get; } = [];

    public const string Usage = """
        usage: bench/run.sh tf [options]

        Per graph in ../shared/models/tf, in this one process after warm-up runs of each (median of --runs):
          mopt pb->pb       mopt-opt in process (its importer and writer as a library): `mopt-opt g.pb -o out.pb`
          tf-deploy         `mopt-opt g.pb [cut] --pipeline='tf-deploy{shape=...}' -o out.pb` (n/a until the pipeline exists)
          ->onnx            `mopt-opt g.pb [cut] --convert-tf-to-onnx -o out.onnx` (n/a until the lowering exists)
          OpenCV read       CvDnn.ReadNetFromTensorflow on the same file (mopt's copy where OpenCV refuses the original)
        with the node counts before and after tf-deploy, the ratios mopt/OpenCV (target <= 1.0x) and the max relative
        difference (max|a-b| / max|b|) of the lowered model in ONNX Runtime against OpenCV on the same input.

          --runs N        timed runs of each, interleaved, after one warm-up each (default 21)
          --warmup N      untimed runs of each first (default 10; the benchmark runs without tiered compilation, so
                          mopt's code is fully optimized from its first call, as in the Native AOT mopt-opt)
          --only NAME     only this graph (repeatable): mnist, fc_layers, cifar10, kws_cnn, kws_ds_cnn
          --models DIR    the tf models folder (default: ../shared/models/tf beside the repository)
          --dir DIR       work here (default: a new folder in /dev/shm, else in $TMPDIR; removed afterwards)
          --keep          keep the work folder
          --strict        exit 2 when a ratio misses 1.0x
        """;

    public static TfBenchOptions Parse(string[] args)
    {
        var o = new TfBenchOptions();
        BenchOptions.ForEach(args, (arg, value) =>
        {
            switch (arg)
            {
                case "--runs": o.Runs = BenchOptions.Positive(arg, value()); break;
                case "--warmup": o.Warmup = BenchOptions.Positive(arg, value()); break;
                case "--only": o.Only.Add(value()); break;
                case "--models": o.Models = value(); break;
                case "--dir": o.Dir = value(); break;
                case "--keep": o.Keep = true; break;
                case "--strict": o.Strict = true; break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    Environment.Exit(0);
                    break;
                default: throw new BenchException($"unknown option '{arg}' (see --help)");
            }
        });
        return o;
    }
}
