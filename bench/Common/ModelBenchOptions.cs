namespace Mopt.Bench;

/// <summary>
/// The options every per-model benchmark (caffe, tf, paddle) takes: runs, warm-up, latency rounds, which models, where
/// to work. Each benchmark adds its own usage text and defaults.
/// </summary>
public abstract class ModelBenchOptions
{
    protected ModelBenchOptions(int runs, int warmup, int latencyRounds)
    {
        Runs = runs;
        Warmup = warmup;
        LatencyRounds = latencyRounds;
    }

    public int Runs { get; private set; }
    public int Warmup { get; private set; }
    public int LatencyRounds { get; private set; }
    public string? Models { get; private set; }
    public string? Dir { get; private set; }
    public bool Keep { get; private set; }
    public bool Strict { get; private set; }
    public List<string> Only { get; } = [];

    protected abstract string Usage { get; }

    /// <summary>Whether the benchmark takes --rounds (it measures ONNX Runtime latency) and --strict.</summary>
    protected virtual bool TakesRounds => true;
    protected virtual bool TakesStrict => true;

    /// <summary>Reads <paramref name="args"/> into these options; an unknown option is an error naming it.</summary>
    protected void ParseArgs(string[] args) =>
        BenchOptions.ForEach(args, (arg, value) =>
        {
            switch (arg)
            {
                case "--runs": Runs = BenchOptions.Positive(arg, value()); break;
                case "--warmup": Warmup = BenchOptions.Positive(arg, value()); break;
                case "--rounds" when TakesRounds: LatencyRounds = BenchOptions.Positive(arg, value()); break;
                case "--only": Only.Add(value()); break;
                case "--models": Models = value(); break;
                case "--dir": Dir = value(); break;
                case "--keep": Keep = true; break;
                case "--strict" when TakesStrict: Strict = true; break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    Environment.Exit(0);
                    break;
                default: throw new BenchException($"unknown option '{arg}' (see --help)");
            }
        });
}
