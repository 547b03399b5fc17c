using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Mopt.Backend.Onnx;
using Mopt.Backend.Runtime;
using Mopt.Bench;
using Mopt.Bench.ModelZoo;
using Mopt.Bench.OnnxRoundTrip;
using Mopt.Ir;
using Mopt.Onnx.Proto;
using static Mopt.Bench.BenchSupport;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
// The timed ONNX Runtime process in .NET: nothing else happens in it.
if (args.Length > 0 && args[0] == "--ort-save") return OrtSave.Run(args);
try
{
    return RoundTripBench.Run(Options.Parse(args));
}
catch (BenchException e)
{
    Console.Error.WriteLine($"onnx-roundtrip: error: {e.Message}");
    return 1;
}
catch (MirException e)
{
    Console.Error.WriteLine($"onnx-roundtrip: error: {e.Message}");
    return 1;
}

namespace Mopt.Bench.OnnxRoundTrip
{
    public sealed class Options
    {
        /// <summary>What every benchmark takes (--mopt, --env, --mopt-arg, --dir, --keep, --strict).</summary>
        public ToolOptions Tool { get; } = new();
        public string Model { get; private set; } = "resnet18";
        public int[]? Blocks { get; private set; }
        public int Runs { get; private set; } = 5;
        public string? Input { get; private set; }
        public string? GenerateOnly { get; private set; }
        public string? PhasesOf { get; private set; }
        public string Ort { get; private set; } = "both";

        public const string Usage = """
            usage: bench/run.sh onnx-roundtrip [options]

            Builds ResNet-18 (the model zoo's, 69 nodes with unfused BatchNormalization, 46.8 MB of f32 weights) as an
            ONNX file, then times `mopt-opt model.onnx -o out.onnx` against ONNX Runtime loading the model with
            ORT_DISABLE_ALL and saving it (SessionOptions.OptimizedModelFilePath), each as its own process.

              --runs N              timed runs of each tool, interleaved, after one warm-up each (default 5)
              --model NAME          the zoo model: resnet18 (default), mobilenet_v2, mlp_bn, small_cnn
              --blocks A,B,C,D      a ResNet with these basic blocks per stage instead (ResNet-18 is 2,2,2,2)
              --input FILE          time on an existing .onnx file instead of generating one
              --generate-only FILE  write the model to FILE and stop
              --phases FILE         profile: time and allocations of each phase of mopt's import + export of FILE, in
                                    process (--runs rounds; the first includes JIT), then stop
              --ort native|dotnet|both
                                    which ONNX Runtime process to time (default both): `native` is ORT alone, a small
                                    C program on the C API (needs cc); `dotnet` is this program's --ort-save mode, ORT
                                    through its C# API in a .NET process. The ratios and PASS/FAIL use native when
                                    it is timed.
              --dir DIR             work here (default: a new folder in /dev/shm, else in $TMPDIR; removed afterwards)
              --keep                keep the work folder
              --mopt PATH           the mopt-opt to time (default: artifacts/mopt-opt/mopt-opt, as scripts/setup.sh ships it)
              --env K=V             set K=V in mopt-opt's environment (repeatable), e.g. --env DOTNET_TieredPGO=0
              --mopt-arg ARG        pass ARG to mopt-opt as well (repeatable), e.g. --mopt-arg=--timing
              --strict              exit 2 when a target is missed (default: exit 0 unless a check fails)

            internal: --ort-save IN OUT   load IN in ONNX Runtime (ORT_DISABLE_ALL) and save it to OUT, then exit
            """;

        public static Options Parse(string[] args)
        {
            var o = new Options();
            BenchOptions.ForEach(args, (arg, Value) =>
            {
                switch (arg)
                {
                    case "-h" or "--help": Console.WriteLine(Usage); Environment.Exit(0); break;
                    case "--runs": o.Runs = int.TryParse(Value(), out var n) && n > 0 ? n : throw new BenchException("--runs needs a positive number"); break;
                    case "--model":
                        o.Model = Value();
                        if (o.Model is not ("resnet18" or "mobilenet_v2" or "mlp_bn" or "small_cnn"))
                            throw new BenchException($"--model: resnet18, mobilenet_v2, mlp_bn or small_cnn, not '{o.Model}'");
                        break;
                    case "--blocks":
                        var parts = Value().Split(',');
                        if (parts.Length != 4 || !parts.All(p => int.TryParse(p, out var b) && b > 0))
                            throw new BenchException("--blocks needs four positive numbers, e.g. 2,2,2,2");
                        o.Blocks = parts.Select(int.Parse).ToArray();
                        break;
                    case "--input": o.Input = Value(); break;
                    case "--generate-only": o.GenerateOnly = Value(); break;
                    case "--phases": o.PhasesOf = Value(); break;
                    case "--ort":
                        o.Ort = Value();
                        if (o.Ort is not ("native" or "dotnet" or "both")) throw new BenchException($"--ort: native, dotnet or both, not '{o.Ort}'");
                        break;
                    default:
                        if (!o.Tool.TryParse(arg, Value)) throw new BenchException($"unknown option '{arg}'\n{Usage}");
                        break;
                }
            });
            return o;
        }
    }

    /// <summary><c>--ort-save IN OUT</c>: ONNX Runtime through its C# API loads IN without graph optimizations and saves it to OUT.</summary>
    public static class OrtSave
    {
        public static int Run(string[] args)
        {
            if (args.Length != 3)
            {
                Console.Error.WriteLine("usage: OnnxRoundTrip --ort-save IN.onnx OUT.onnx");
                return 2;
            }
            try
            {
                using var options = new SessionOptions
                {
                    GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
                    OptimizedModelFilePath = args[2],
                    LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                };
                using var session = new InferenceSession(args[1], options);
                return 0;
            }
            catch (OnnxRuntimeException e)
            {
                Console.Error.WriteLine($"ort-save: {e.Message}");
                return 1;
            }
        }
    }

    /// <summary>One timed command: mopt-opt, or an ONNX Runtime driver.</summary>
    public sealed record Tool(string Name, string Path, string[] Prefix, IReadOnlyList<(string Key, string Value)> Env, string Output)
    {
        public List<Sample> Samples { get; } = new();
        public string[] Args(string input) => [.. Prefix, input, Output];
    }

    public static class RoundTripBench
    {
        public static int Run(Options o)
        {
            if (o.GenerateOnly is { } target)
            {
                Generate(o, Path.GetFullPath(target));
                return 0;
            }
            if (o.PhasesOf is { } file)
            {
                Phases.Run(file, o.Runs, o.Tool.Dir ?? Path.GetDirectoryName(Path.GetFullPath(file))!);
                return 0;
            }

            string root = RepoRoot();
            string mopt = o.Tool.MoptPath(root);
            foreach (var tool in new[] { mopt, "/usr/bin/time" })
                if (!File.Exists(tool)) throw new BenchException($"'{tool}' not found");

            return BenchOptions.InWorkDir(o.Tool, o.Input, "model.onnx", path => Generate(o, path), (input, dir) => Measure(o, mopt, input, dir));
        }

        private static void Generate(Options o, string path)
        {
            var clock = Stopwatch.StartNew();
            var module = o.Blocks is { } blocks ? Zoo.ResNet(blocks) : o.Model switch
            {
                "mobilenet_v2" => Zoo.MobileNetV2(),
                "mlp_bn" => Zoo.MlpWithBatchNorm(),
                "small_cnn" => Zoo.SmallCnn(),
                _ => Zoo.ResNet(),
            };
            var stats = ModelStats.Of(module);
            OnnxExporter.WriteFile(module, path);
            long size = new FileInfo(path).Length;
            string what = o.Blocks is { } b ? $"ResNet with {string.Join(",", b)} basic blocks per stage (ResNet-18 is 2,2,2,2)" : o.Model;
            Console.WriteLine($"model:  {what} from bench/ModelZoo (seed 0x{Zoo.DefaultSeed:X}), written by OnnxExporter");
            Console.WriteLine($"        {stats.Nodes} nodes ({string.Join(", ", stats.NodesByType.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Value} {kv.Key}"))}), " +
                              $"{stats.Initializers} initializers, {stats.Parameters / 1e6:F2}M parameters = {stats.WeightBytes / 1e6:F1} MB of weights; " +
                              $"file {size / 1e6:F1} MB; built in {clock.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine($"        {path}");
        }

        private static int Measure(Options o, string mopt, string input, string dir)
        {
            // The generator's arrays are garbage now; give their memory back before timing anything.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

            var tools = new List<Tool> { new("mopt-opt", mopt, [], o.Tool.MoptEnv, Path.Combine(dir, "out.mopt.onnx")) };
            // mopt-opt takes `IN [flags] -o OUT`
            string[] MoptArgs(string inPath) => [inPath, .. o.Tool.MoptArgs, "-o", tools[0].Output];

            string? nativeProblem = null;
            if (o.Ort is "native" or "both")
            {
                var native = NativeDriver.Build(out nativeProblem);
                if (native is not null) tools.Add(new("ort", native, [], [], Path.Combine(dir, "out.ort.onnx")));
                else if (o.Ort == "native") throw new BenchException($"cannot build the native ONNX Runtime driver: {nativeProblem}");
                else Console.WriteLine($"note: no native ONNX Runtime driver ({nativeProblem}); timing ORT in .NET only");
            }
            if (o.Ort is "dotnet" or "both")
            {
                string self = Path.Combine(AppContext.BaseDirectory, "OnnxRoundTrip");
                if (!File.Exists(self)) throw new BenchException($"'{self}' not found (the benchmark's own apphost)");
                tools.Add(new("ort .NET", self, ["--ort-save"], [], Path.Combine(dir, "out.ort-dotnet.onnx")));
            }
            var reference = tools[1]; // the ratios are against this one: native ORT when it is timed

            string envText = o.Tool.MoptEnv.Count == 0 ? "" : string.Join(" ", o.Tool.MoptEnv.Select(e => $"{e.Key}={e.Value}")) + " ";
            Console.WriteLine($"{"mopt-opt:",-10}{envText}{mopt} {string.Join(" ", MoptArgs(input))}");
            foreach (var t in tools.Skip(1))
                Console.WriteLine($"{t.Name + ":",-10}{t.Path} {string.Join(" ", t.Args(input))}" +
                                  (t.Name == "ort" ? "   (C API; ORT_DISABLE_ALL, optimized model file path)" : "   (C# API, same settings)"));
            Console.WriteLine($"runs:     1 warm-up each, then {o.Runs} timed each, interleaved ({string.Join(", ", tools.Select(t => t.Name))}, ...); " +
                              $"{Environment.ProcessorCount} CPUs, load average {LoadAverage()}");

            // Each run writes a new file: replacing the previous run's output would add the kernel's cost of freeing
            // it, which is no part of the round trip.
            Sample RunOnce(Tool t, string what)
            {
                File.Delete(t.Output);
                return t.Name == "mopt-opt"
                    ? RunTool(t.Path, MoptArgs(input), t.Env, what, err => err.Contains("Execution time report", StringComparison.Ordinal))
                    : RunTool(t.Path, t.Args(input), t.Env, what);
            }

            foreach (var t in tools) RunOnce(t, $"{t.Name} (warm-up)");
            for (int i = 0; i < o.Runs; i++)
                foreach (var t in tools) t.Samples.Add(RunOnce(t, t.Name));
            Console.WriteLine($"load average after the runs: {LoadAverage()}");

            var failures = Checks.Run(input, tools.Select(t => (t.Name, t.Output)).ToList());
            Report(tools, reference, failures, out bool targetsMet);
            if (failures.Count > 0) return 1;
            return o.Tool.Strict && !targetsMet ? 2 : 0;
        }

        private static void Report(List<Tool> tools, Tool reference, List<string> failures, out bool targetsMet)
        {
            Console.WriteLine();
            Console.WriteLine("  tool       median wall s   median peak MiB   median cpu s   min wall s   wall s, each run");
            foreach (var t in tools)
                Console.WriteLine($"  {t.Name,-9}  {Median(t.Samples.Select(s => s.Wall)),13:F3}   {Median(t.Samples.Select(s => s.PeakMiB)),15:F1}   " +
                                  $"{Median(t.Samples.Select(s => s.Cpu)),12:F3}   {t.Samples.Min(s => s.Wall),10:F3}   {string.Join(" ", t.Samples.Select(s => s.Wall.ToString("F3")))}");
            Console.WriteLine("  (cpu = user + sys; the ratios and PASS/FAIL below use the medians)");
            Console.WriteLine();

            var mopt = tools[0];
            double Wall(Tool t) => Median(t.Samples.Select(s => s.Wall));
            double Mem(Tool t) => Median(t.Samples.Select(s => s.PeakMiB));
            double Cpu(Tool t) => Median(t.Samples.Select(s => s.Cpu));
            double timeRatio = Wall(mopt) / Wall(reference), memRatio = Mem(mopt) / Mem(reference);
            bool timeOk = timeRatio <= 1.0, memOk = memRatio <= 1.0;
            string label = $"mopt/{reference.Name}";
            Console.WriteLine($"  {label,-15} wall time   {timeRatio,6:F2}x   target <= 1.00x   {(timeOk ? "PASS" : "FAIL")}");
            Console.WriteLine($"  {label,-15} peak memory {memRatio,6:F2}x   target <= 1.00x   {(memOk ? "PASS" : "FAIL")}");
            Console.WriteLine($"  {label,-15} cpu time    {Cpu(mopt) / Cpu(reference),6:F2}x   (for information: less sensitive than wall time to other load on the machine)");
            foreach (var other in tools.Skip(1).Where(t => t != reference))
            {
                string l = $"mopt/{other.Name}";
                Console.WriteLine($"  {l,-15} wall time   {Wall(mopt) / Wall(other),6:F2}x   peak memory {Mem(mopt) / Mem(other),5:F2}x   cpu time {Cpu(mopt) / Cpu(other),5:F2}x   (for information)");
            }
            Console.WriteLine();
            Console.WriteLine(failures.Count == 0
                ? "checks: every tool exits 0; every output loads in ONNX Runtime and gives bit-identical outputs to the input model on seeded inputs: OK"
                : "checks FAILED:\n  " + string.Join("\n  ", failures));
            targetsMet = timeOk && memOk;
        }
    }

    /// <summary>The ONNX Runtime C driver (ort-save.c), compiled once against the header and library of the package the .NET code uses.</summary>
    public static class NativeDriver
    {
        public static string? Build(out string? problem) => OrtNativeDriver.Build("ort-save", out problem);
    }

    /// <summary>Untimed checks: each output loads in ONNX Runtime and computes bit-identical outputs to the input model.</summary>
    public static class Checks
    {
        public static List<string> Run(string input, List<(string Name, string Path)> outputs)
        {
            var failures = new List<string>();
            Console.WriteLine();
            Console.WriteLine("  file                  size MB   nodes   BatchNorm   initializers   weights MB   same bytes as input");
            Describe("input", input, input);
            foreach (var (name, path) in outputs) Describe(name, path, input);

            const int inputSets = 2;
            Dictionary<string, NpyArray>[] expected;
            var feeds = new List<Dictionary<string, NpyArray>>();
            using (var original = new OrtRunner(input))
            {
                for (int seed = 1; seed <= inputSets; seed++) feeds.Add(RandomInputs.For(original.Inputs, seed));
                expected = feeds.Select(f => original.Run(f)).ToArray();
            }
            var first = expected[0].First();
            var values = RandomInputs.ToDoubles(first.Value);
            Console.WriteLine($"  reference: input model in ONNX Runtime on {inputSets} seeded inputs; output '{first.Key}' [{string.Join("x", first.Value.Shape)}], " +
                              $"values in [{values.Min():G4}, {values.Max():G4}], all finite: {values.All(double.IsFinite)}");
            foreach (var (name, path) in outputs)
            {
                try
                {
                    using var runner = new OrtRunner(path);
                    for (int i = 0; i < feeds.Count; i++)
                    {
                        var actual = runner.Run(feeds[i]);
                        foreach (var (key, want) in expected[i])
                        {
                            if (!actual.TryGetValue(key, out var got)) failures.Add($"{name}: output '{key}' is missing");
                            else if (!want.Shape.SequenceEqual(got.Shape) || !want.Data.AsSpan().SequenceEqual(got.Data))
                                failures.Add($"{name}: output '{key}' differs from the input model's on input set {i + 1} " +
                                             $"(max |diff| {OutputDifference.Compare(key, want, got).MaxAbsDiff:G3})");
                        }
                    }
                }
                catch (MirException e) { failures.Add($"{name}: {e.Message}"); }
            }
            return failures;
        }

        private static void Describe(string name, string path, string input)
        {
            try
            {
                var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
                long weights = model.Graph.Initializer.Sum(t => (long)t.RawData.Length);
                bool same = path == input || SameBytes(path, input);
                Console.WriteLine($"  {name,-18}  {new FileInfo(path).Length / 1e6,9:F1}   {model.Graph.Node.Count,5}   " +
                                  $"{model.Graph.Node.Count(n => n.OpType == "BatchNormalization"),9}   {model.Graph.Initializer.Count,12}   " +
                                  $"{weights / 1e6,10:F1}   {(path == input ? "" : same ? "yes" : "no")}");
            }
            catch (Exception e) when (e is IOException or Google.Protobuf.InvalidProtocolBufferException)
            {
                Console.WriteLine($"  {name,-18}  cannot read: {e.Message}");
            }
        }
    }
}
