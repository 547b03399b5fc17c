using System.Diagnostics;
using System.Globalization;
using Mopt.Bench;
using Mopt.Bench.ModelZoo;
using Mopt.Bench.ParsePrint;
using Mopt.Ir;
using Mopt.Ir.Printing;
using static Mopt.Bench.BenchSupport;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
try
{
    return Bench.Run(Options.Parse(args));
}
catch (BenchException e)
{
    Console.Error.WriteLine($"parse-print: error: {e.Message}");
    return 1;
}

namespace Mopt.Bench.ParsePrint
{
    public sealed class Options
    {
        /// <summary>What every benchmark takes (--mopt, --env, --mopt-arg, --dir, --keep, --strict).</summary>
        public ToolOptions Tool { get; } = new();
        /// <summary>ResNet-18's widths and basic blocks, deepened to ~1,000 operations and ~97 MB of f32 weights.</summary>
        public int[] Blocks { get; private set; } = [32, 16, 6, 2];
        public ElementType Element { get; private set; } = ElementType.F32;
        public int Runs { get; private set; } = 5;
        public string? Input { get; private set; }
        public string? GenerateOnly { get; private set; }
        public string? PhasesOf { get; private set; }
        public string MlirOpt { get; private set; } = "/usr/lib/llvm-19/bin/mlir-opt";

        public const string Usage = """
            usage: bench/run.sh parse-print [options]

            Generates a ResNet-like module in generic form (weights as dense_resource blobs), then times
            `mopt-opt in.mir -o out.mir` against `mlir-opt --allow-unregistered-dialect in.mir -o out.mir`.

              --runs N              timed runs of each tool, interleaved, after one warm-up each (default 5)
              --blocks A,B,C,D      basic blocks per stage (default 32,16,6,2; ResNet-18 is 2,2,2,2)
              --dtype f32|f64       weight element type (default f32)
              --input FILE          time on FILE instead of generating a module
              --generate-only FILE  write the module to FILE and stop
              --phases FILE         profile: time and allocations of each phase of parse + print of FILE, in process
                                    (--runs rounds; the first includes JIT), then stop
              --dir DIR             work here (default: a new folder in /dev/shm, else in $TMPDIR; removed afterwards)
              --keep                keep the work folder
              --mopt PATH           the mopt-opt to time (default: artifacts/mopt-opt/mopt-opt, as scripts/setup.sh ships it)
              --mlir-opt PATH       the mlir-opt to time (default: /usr/lib/llvm-19/bin/mlir-opt)
              --env K=V             set K=V in mopt-opt's environment (repeatable), e.g. --env DOTNET_TieredPGO=0
              --mopt-arg ARG        pass ARG to mopt-opt as well (repeatable), e.g. --mopt-arg=--timing
              --strict              exit 2 when a target is missed (default: exit 0 unless a check fails)
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
                    case "--blocks":
                        var parts = Value().Split(',');
                        if (parts.Length != 4 || !parts.All(p => int.TryParse(p, out var b) && b > 0))
                            throw new BenchException("--blocks needs four positive numbers, e.g. 2,2,2,2");
                        o.Blocks = parts.Select(int.Parse).ToArray();
                        break;
                    case "--dtype":
                        o.Element = Value() switch { "f32" => ElementType.F32, "f64" => ElementType.F64, var d => throw new BenchException($"--dtype: f32 or f64, not '{d}'") };
                        break;
                    case "--input": o.Input = Value(); break;
                    case "--generate-only": o.GenerateOnly = Value(); break;
                    case "--phases": o.PhasesOf = Value(); break;
                    case "--mlir-opt": o.MlirOpt = Value(); break;
                    default:
                        if (!o.Tool.TryParse(arg, Value)) throw new BenchException($"unknown option '{arg}'\n{Usage}");
                        break;
                }
            });
            return o;
        }
    }

    public static class Bench
    {
        public static int Run(Options o)
        {
            if (o.GenerateOnly is { } target)
            {
                Generate(o, target);
                return 0;
            }
            if (o.PhasesOf is { } file)
            {
                Phases.Run(file, o.Runs, o.Tool.Dir ?? Path.GetDirectoryName(Path.GetFullPath(file))!);
                return 0;
            }

            string root = RepoRoot();
            string mopt = o.Tool.MoptPath(root);
            foreach (var tool in new[] { mopt, o.MlirOpt, "/usr/bin/time" })
                if (!File.Exists(tool)) throw new BenchException($"'{tool}' not found");

            return BenchOptions.InWorkDir(o.Tool, o.Input, "in.mir", path => Generate(o, path), (input, dir) => Measure(o, mopt, input, dir));
        }

        private static void Generate(Options o, string path)
        {
            var clock = Stopwatch.StartNew();
            var module = Zoo.ResNet(o.Blocks, element: o.Element);
            var model = ModelStats.Of(module);
            using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                MirPrinter.Print(module, stream);
            long size = new FileInfo(path).Length;
            Console.WriteLine($"module: ResNet-18 widths (64/128/256/512) and basic blocks, {string.Join(",", o.Blocks)} blocks per stage " +
                              $"(ResNet-18 is 2,2,2,2), unfused batch-norms, {o.Element.Name} weights, 1x3x224x224 input");
            Console.WriteLine($"        {model.Operations} operations, {model.Initializers} dense_resource blobs, {model.Parameters / 1e6:F2}M parameters = " +
                              $"{model.WeightBytes / 1e6:F1} MB ({model.WeightBytes / 1048576.0:F1} MiB) of weights; " +
                              $"file {size / 1e6:F1} MB; generated in {clock.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine($"        {path}");
        }

        private static int Measure(Options o, string mopt, string input, string dir)
        {
            // The generator's arrays are garbage now; give their memory back before timing anything.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

            string moptOut = Path.Combine(dir, "out.mopt.mir"), mlirOut = Path.Combine(dir, "out.mlir.mir");
            string[] moptArgs = [input, .. o.Tool.MoptArgs, "-o", moptOut];
            string[] mlirArgs = ["--allow-unregistered-dialect", input, "-o", mlirOut];
            var env = o.Tool.MoptEnv;

            string envText = env.Count == 0 ? "" : string.Join(" ", env.Select(e => $"{e.Key}={e.Value}")) + " ";
            Console.WriteLine($"mopt:   {envText}{mopt} {string.Join(" ", moptArgs)}");
            Console.WriteLine($"mlir:   {o.MlirOpt} {string.Join(" ", mlirArgs)}");
            Console.WriteLine($"runs:   1 warm-up each, then {o.Runs} timed each, interleaved (mopt, mlir, mopt, ...); {Environment.ProcessorCount} CPUs, load average {LoadAverage()}");

            // Each run writes a new file: replacing the previous run's 180 MB output would add the kernel's cost of
            // freeing it (in mlir-opt's O_TRUNC open, in mopt-opt's rename), which is no part of parse and print.
            Sample Mopt(string what) { File.Delete(moptOut); return RunTool(mopt, moptArgs, env, what, ShowTiming); }
            Sample Mlir(string what) { File.Delete(mlirOut); return RunTool(o.MlirOpt, mlirArgs, [], what); }

            // Warm-up: the input in the page cache, the binaries loaded once.
            Mopt("mopt-opt (warm-up)");
            Mlir("mlir-opt (warm-up)");

            var moptSamples = new List<Sample>();
            var mlirSamples = new List<Sample>();
            for (int i = 0; i < o.Runs; i++)
            {
                moptSamples.Add(Mopt("mopt-opt"));
                mlirSamples.Add(Mlir("mlir-opt"));
            }

            // Checks (untimed): mopt's output reads back and prints identically; mlir-opt reads it too.
            var failures = new List<string>();
            string again = Path.Combine(dir, "out.mopt.again.mir");
            try
            {
                RunTool(mopt, [moptOut, "-o", again], env, "mopt-opt on its own output");
                if (!SameBytes(moptOut, again)) failures.Add("mopt-opt's output does not print back identically (parse(print(m)) != print(m))");
            }
            catch (BenchException e) { failures.Add(e.Message); }
            try { RunTool(o.MlirOpt, ["--allow-unregistered-dialect", moptOut, "-o", "/dev/null"], [], "mlir-opt on mopt-opt's output"); }
            catch (BenchException e) { failures.Add(e.Message); }
            File.Delete(again);

            Console.WriteLine($"load average after the runs: {LoadAverage()}");
            Report(moptSamples, mlirSamples, input, moptOut, mlirOut, failures, out bool targetsMet);
            if (failures.Count > 0) return 1;
            return o.Tool.Strict && !targetsMet ? 2 : 0;
        }

        /// <summary>--mopt-arg=--timing: show mopt-opt's phase report.</summary>
        private static bool ShowTiming(string stderr) => stderr.Contains("Execution time report", StringComparison.Ordinal);

        private static void Report(List<Sample> mopt, List<Sample> mlir, string input, string moptOut, string mlirOut,
            List<string> failures, out bool targetsMet)
        {
            double mw = Median(mopt.Select(s => s.Wall)), lw = Median(mlir.Select(s => s.Wall));
            double mm = Median(mopt.Select(s => s.PeakMiB)), lm = Median(mlir.Select(s => s.PeakMiB));
            double mc = Median(mopt.Select(s => s.User + s.Sys)), lc = Median(mlir.Select(s => s.User + s.Sys));
            double timeRatio = mw / lw, memRatio = mm / lm;

            Console.WriteLine();
            Console.WriteLine($"input {new FileInfo(input).Length / 1e6:F1} MB; outputs: mopt-opt {new FileInfo(moptOut).Length / 1e6:F1} MB, " +
                              $"mlir-opt {new FileInfo(mlirOut).Length / 1e6:F1} MB (mlir-opt drops loc(...) without --mlir-print-debuginfo)");
            Console.WriteLine();
            Console.WriteLine("  tool       median wall s   median peak MiB   median cpu s   min wall s   wall s, each run");
            Console.WriteLine($"  mopt-opt   {mw,13:F3}   {mm,15:F1}   {mc,12:F3}   {mopt.Min(s => s.Wall),10:F3}   {string.Join(" ", mopt.Select(s => s.Wall.ToString("F3")))}");
            Console.WriteLine($"  mlir-opt   {lw,13:F3}   {lm,15:F1}   {lc,12:F3}   {mlir.Min(s => s.Wall),10:F3}   {string.Join(" ", mlir.Select(s => s.Wall.ToString("F3")))}");
            Console.WriteLine("  (cpu = user + sys; the ratios and PASS/FAIL below use the medians)");
            Console.WriteLine();
            bool timeOk = timeRatio <= 1.0, memOk = memRatio <= 1.0;
            Console.WriteLine($"  mopt/mlir  wall time   {timeRatio,6:F2}x   target <= 1.00x   {(timeOk ? "PASS" : "FAIL")}");
            Console.WriteLine($"  mopt/mlir  peak memory {memRatio,6:F2}x   target <= 1.00x   {(memOk ? "PASS" : "FAIL")}");
            Console.WriteLine($"  mopt/mlir  cpu time    {mc / lc,6:F2}x   (for information: less sensitive than wall time to other load on the machine)");
            Console.WriteLine();
            Console.WriteLine(failures.Count == 0
                ? "checks: both tools exit 0; mopt-opt reads its own output back and prints it identically; mlir-opt reads mopt-opt's output: OK"
                : "checks FAILED:\n  " + string.Join("\n  ", failures));
            targetsMet = timeOk && memOk;
        }
    }
}
