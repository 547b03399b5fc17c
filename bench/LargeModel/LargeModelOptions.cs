namespace Mopt.Bench.LargeModel;

public sealed class LargeModelOptions
{
    public ToolOptions Tool { get; } = new();
    public int Layers { get; private set; } = 24;
    public int Width { get; private set; } = 5120;
    public int Runs { get; private set; } = 3;
    public bool Huge { get; private set; }
    public bool Check { get; private set; } = true;

    public const string Usage = """
        usage: bench/run.sh large-model [options]

        Writes a 2.5 GB ONNX model with its weights in external data (24 x Gemm 5120x5120 + BatchNormalization + Relu),
        then times, each as its own process under /usr/bin/time, interleaved:
          mopt-opt model.onnx -o rt.onnx                      (round trip)
          mopt-opt model.onnx --pipeline=deploy -o dep.onnx   (folds each BatchNormalization into its Gemm)
          ort-optimize basic model.onnx ort.onnx external-data (ONNX Runtime alone, C API, ORT_ENABLE_BASIC, saved)
        and prints wall and peak RSS, peak as a share of the model's size, and wall against ONNX Runtime's. Targets:
        round trip peak <= 0.3x the model's size; deploy peak <= 1.1x and wall <= 1.5x ONNX Runtime basic's.
        Then each output runs in ONNX Runtime on the same input against the original (max relative difference).

          --layers N     Gemm+BN+Relu layers (default 24)
          --width W      the Gemm's size (default 5120)
          --runs N       timed runs of each (default 3; medians)
          --no-check     skip running the outputs in ONNX Runtime
          --huge         instead: a 27 GB model of Gemm + Relu layers (260 unless --layers; no BatchNormalization, as
                         a large language model), larger than this machine's memory, written to --dir (required,
                         on a disk with twice the model's size free, checked first); mopt-opt round-trips it and runs
                         --pipeline=quantize-weights on it (wall, peak RSS, sizes); every file is deleted afterwards
          --dir DIR      work here (default: a new folder in $TMPDIR; removed afterwards)
          --keep         keep the work folder
          --mopt PATH    the mopt-opt to time (default: artifacts/mopt-opt/mopt-opt)
          --env K=V      set K=V in mopt-opt's environment (repeatable)
          --mopt-arg A   pass A to mopt-opt as well (repeatable), e.g. --mopt-arg=--timing
          --strict       exit 2 when a target is missed
        """;

    public static LargeModelOptions Parse(string[] args)
    {
        var o = new LargeModelOptions();
        bool layersGiven = false;
        BenchOptions.ForEach(args, (arg, value) =>
        {
            switch (arg)
            {
                case "-h" or "--help": Console.WriteLine(Usage); Environment.Exit(0); break;
                case "--layers": o.Layers = BenchOptions.Positive(arg, value()); layersGiven = true; break;
                case "--width": o.Width = BenchOptions.Positive(arg, value()); break;
                case "--runs": o.Runs = BenchOptions.Positive(arg, value()); break;
                case "--no-check": o.Check = false; break;
                case "--huge": o.Huge = true; break;
                default:
                    if (!o.Tool.TryParse(arg, value)) throw new BenchException($"unknown option '{arg}' (see --help)");
                    break;
            }
        });
        if (o.Huge && !layersGiven) o.Layers = 260;
        if (o.Huge && o.Tool.Dir is null) throw new BenchException("--huge needs --dir DIR on a disk with twice the model's size free (not tmpfs)");
        return o;
    }
}
