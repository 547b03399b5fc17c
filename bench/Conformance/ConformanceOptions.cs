namespace Mopt.Bench.Conformance;

/// <summary>The command line of bench/run.sh conformance.</summary>
public sealed record ConformanceOptions(string DataDir, string? Filter, IReadOnlySet<string> Stages, bool ListFailures, string OutDir, bool Help)
{
    public static readonly string[] AllStages = ["roundtrip", "mir", "deploy", "fold"];

    public const string Usage = """
        usage: bench/run.sh conformance [--filter SUBSTRING] [--stage roundtrip,mir,deploy,fold] [--list-failures]
                                        [--data DIR] [--out DIR]
          --filter S       only tests whose suite/name contains S (e.g. node/test_conv, pytorch-converted)
          --stage LIST     the mopt stages to run (default all): roundtrip (.onnx -> .onnx), mir (.onnx -> .mir -> .onnx),
                           deploy (--pipeline=deploy), fold (inputs as initializers, --fold-constants --dce)
          --list-failures  print every failure on the console (the full list is always written to the out folder)
          --data DIR       the test suite (default /usr/share/libonnx-testdata/data, Debian's libonnx-testdata)
          --out DIR        where failures.txt and results.tsv go (default bench/out/conformance)
        """;

    public static ConformanceOptions Parse(IReadOnlyList<string> args, string defaultOut)
    {
        string data = "/usr/share/libonnx-testdata/data", outDir = defaultOut;
        string? filter = null;
        var stages = new HashSet<string>(AllStages, StringComparer.Ordinal);
        bool list = false, help = false;
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--filter": filter = Value(); break;
                case "--stage" or "--stages":
                    stages = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
                    if (stages.FirstOrDefault(s => !AllStages.Contains(s)) is { } bad)
                        throw new ArgumentException($"unknown stage '{bad}' (stages: {string.Join(", ", AllStages)})");
                    break;
                case "--list-failures": list = true; break;
                case "--data": data = Value(); break;
                case "--out": outDir = Value(); break;
                case "-h" or "--help": help = true; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        return new ConformanceOptions(data, filter, stages, list, outDir, help);
    }
}
