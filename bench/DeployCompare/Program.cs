using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Mopt.Backend;
using Mopt.Backend.Runtime;
using Mopt.Bench;
using Mopt.Bench.DeployCompare;
using Mopt.Frontend;
using Mopt.Ir;
using Mopt.Ir.Printing;
using Mopt.Passes;
using static Mopt.Bench.BenchSupport;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
// The timed ONNX Runtime optimizer process in .NET: nothing else happens in it.
if (args.Length > 0 && args[0] == "--ort-optimize") return OrtOptimize.Run(args);
try
{
    return DeployBench.Run(Options.Parse(args));
}
catch (BenchException e)
{
    Console.Error.WriteLine($"deploy: error: {e.Message}");
    return 1;
}
catch (MirException e)
{
    Console.Error.WriteLine($"deploy: error: {e.Message}");
    return 1;
}

namespace Mopt.Bench.DeployCompare
{
    /// <summary><c>--ort-optimize LEVEL IN OUT</c>: ORT's C# API loads IN at LEVEL and writes the optimized model to OUT.</summary>
    public static class OrtOptimize
    {
        public static GraphOptimizationLevel Level(string name) => name switch
        {
            "disable" => GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all" => GraphOptimizationLevel.ORT_ENABLE_ALL,
            _ => throw new BenchException($"unknown optimization level '{name}' (disable, basic, extended, all)"),
        };

        /// <summary>What ORT's offline optimizer is: a session at the level that writes its optimized graph, then closes.</summary>
        public static void Optimize(GraphOptimizationLevel level, string input, string output)
        {
            using var options = new SessionOptions
            {
                GraphOptimizationLevel = level,
                OptimizedModelFilePath = output,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            };
            using var session = new InferenceSession(input, options);
        }

        public static int Run(string[] args)
        {
            if (args.Length != 4)
            {
                Console.Error.WriteLine("usage: DeployCompare --ort-optimize disable|basic|extended|all IN.onnx OUT.onnx");
                return 2;
            }
            try
            {
                Optimize(Level(args[1]), args[2], args[3]);
                return 0;
            }
            catch (Exception e) when (e is OnnxRuntimeException or BenchException)
            {
                Console.Error.WriteLine($"ort-optimize: {e.Message}");
                return 1;
            }
        }
    }

    /// <summary>One optimizer run as a whole process.</summary>
    public sealed record ProcTool(string Name, string Path, string[] Args, IReadOnlyList<(string Key, string Value)> Env, string Output)
    {
        public List<Sample> Samples { get; } = new();
        public string? Failure { get; set; }
        public double MedianWall => Median(Samples.Select(s => s.Wall));
        public double MedianCpu => Median(Samples.Select(s => s.Cpu));
        public double MedianPeak => Median(Samples.Select(s => s.PeakMiB));
    }

    public sealed class ModelResult(BenchModel model)
    {
        public BenchModel Model { get; } = model;
        public GraphStats? Original { get; set; }
        public GraphStats? Mopt { get; set; }
        public GraphStats? Ort { get; set; }
        public List<ProcTool> Tools { get; } = new();
        public ProcTool? MoptTool => Tools.FirstOrDefault(t => t.Name == DeployBench.MoptName && t.Failure is null && t.Samples.Count > 0);
        /// <summary>The ORT process the ratios use: the C driver when it ran, else the .NET one.</summary>
        public ProcTool? OrtTool => Tools.FirstOrDefault(t => t.Name == DeployBench.OrtName && t.Failure is null && t.Samples.Count > 0)
                                    ?? Tools.FirstOrDefault(t => t.Name == DeployBench.OrtDotnetName && t.Failure is null && t.Samples.Count > 0);
        public List<double> MoptInProcess { get; } = new();
        public List<double> OrtInProcess { get; } = new();
        public LatencyResult? LatOriginal { get; set; }
        public LatencyResult? LatMopt { get; set; }
        public LatencyResult? LatOrt { get; set; }
        public double? PairedLatency { get; set; }
        public int Repeat { get; set; } = 1;
        public (double Low, double High)? LatencyInterval { get; set; }
        /// <summary>The 95% interval of the latency ratio contains 1.0: the difference is within this machine's noise.</summary>
        public bool LatencyWithinNoise => LatencyInterval is { } i && i.Low <= 1.0 && i.High >= 1.0;
        public double? CpuLatencyRatio { get; set; }
        public double? DiffMopt { get; set; }
        public double? DiffOrt { get; set; }
        public List<string> Problems { get; } = new();

        public double? LatencyRatio => LatMopt is { } m && LatOrt is { } o ? m.MedianMs / o.MedianMs : null;
        public double? OptimizeRatio => MoptTool is { } m && OrtTool is { } o ? m.MedianWall / o.MedianWall : null;
        public bool NodesOk => Mopt is { } m && Ort is { } o && m.Nodes <= o.Nodes;
        public bool LatencyOk => LatencyRatio is { } r && r <= 1.00;
        public bool OptimizeOk => OptimizeRatio is { } r && r <= 1.0;
        public bool DiffOk => DiffMopt is { } d && d <= Options.DiffTarget;
    }

    public static class DeployBench
    {
        public const string MoptName = "mopt-opt", OrtName = "ort-basic", OrtDotnetName = "ort-basic .NET";

        public static int Run(Options o)
        {
            string root = RepoRoot();
            string mopt = o.Tool.MoptPath(root);
            foreach (var tool in new[] { mopt, "/usr/bin/time" })
                if (!File.Exists(tool)) throw new BenchException($"'{tool}' not found");
            string modelsDir = Path.GetFullPath(o.ModelsDir ?? Path.Combine(root, "..", "shared", "models", "onnx"));

            // The pipeline must exist in this build before anything is timed (the benchmark's passes are mopt-opt's).
            try { BuildPasses(o); }
            catch (PipelineException e)
            {
                throw new BenchException($"{o.PipelineFlag} is not available in this build: {e.Message}" +
                                         (o.PipelineOverride is null ? "\n  (to try the benchmark before deploy's passes exist: --pipeline-override 'canonicalize,dce,sort-by-execution-order')" : ""));
            }

            string? native = null;
            if (o.Ort is "native" or "both")
            {
                native = OrtNativeDriver.Build("ort-optimize", out var problem);
                if (native is null && o.Ort == "native") throw new BenchException($"cannot build the native ONNX Runtime driver: {problem}");
                if (native is null) Console.WriteLine($"note: no native ONNX Runtime driver ({problem}); timing ORT in .NET only");
            }
            string self = Path.Combine(AppContext.BaseDirectory, "DeployCompare");
            bool dotnet = o.Ort is "dotnet" or "both" || native is null;
            if (dotnet && !File.Exists(self)) throw new BenchException($"'{self}' not found (the benchmark's own apphost)");

            bool tempDir = o.Tool.Dir is null;
            string dir = o.Tool.Dir is { } d ? Directory.CreateDirectory(d).FullName : TempDir();
            try
            {
                Console.WriteLine($"deploy: mopt-opt {o.PipelineText}");
                Console.WriteLine($"        against ONNX Runtime {OrtEnv.Instance().GetVersionString()}'s offline optimizer at ORT_ENABLE_BASIC (optimized-model file path)");
                Console.WriteLine($"mopt-opt: {(o.Tool.MoptEnv.Count == 0 ? "" : string.Join(" ", o.Tool.MoptEnv.Select(e => $"{e.Key}={e.Value}")) + " ")}{mopt} IN {string.Join(" ", [o.PipelineFlag, .. o.Tool.MoptArgs])} -o OUT");
                if (native is not null) Console.WriteLine($"{OrtName}: {native} basic IN OUT   (C API; ORT alone in the process)");
                if (dotnet) Console.WriteLine($"{OrtDotnetName}: {self} --ort-optimize basic IN OUT   (C# API in a .NET process; for information)");
                Console.WriteLine($"optimize: each tool as a whole process under /usr/bin/time, 1 warm-up + {o.OptRuns} timed runs each, interleaved" +
                                  (o.InProcess ? $"; also in this process (mopt's library, ORT's C# API), 1 warm-up + {o.OptRuns} each" : ""));
                Console.WriteLine($"latency:  each output in ONNX Runtime, ORT_DISABLE_ALL, 1 intra-op thread, sequential; the same seeded input " +
                                  $"(RandomInputs seed {o.Seed}); {o.Warmup} warm-up + {o.Runs} timed rounds, each round running every output once, in rotating order " +
                                  $"(a run of a model under {o.MinRunMs:G3} ms is K inferences back to back; times are per inference)");
                Console.WriteLine($"machine:  {Environment.ProcessorCount} CPUs, load average {LoadAverage()}; work folder {dir}");
                if (o.Runs < 20) Console.WriteLine($"note: --runs {o.Runs} is fewer than the issue's 20 timed runs");

                var models = Models.Resolve(o.Models, modelsDir, dir);
                if (models.Count == 0) throw new BenchException("no models to run");
                Console.WriteLine($"models:   {string.Join(", ", models.Select(m => m.Name))}");

                var results = new List<ModelResult>();
                var clock = Stopwatch.StartNew();
                foreach (var model in models)
                {
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    var r = RunModel(o, model, mopt, native, dotnet ? self : null, dir);
                    results.Add(r);
                    Report.Model(r, o);
                }
                Console.WriteLine($"load average after the runs: {LoadAverage()}; the benchmark took {clock.Elapsed.TotalSeconds:F0} s");
                bool allMet = Report.Summary(results, o);
                if (results.Any(r => r.Problems.Count > 0)) return 1;
                return o.Tool.Strict && !allMet ? 2 : 0;
            }
            finally
            {
                if (tempDir && !o.Tool.Keep) Directory.Delete(dir, recursive: true);
                else Console.WriteLine($"files kept in {dir}");
            }
        }

        public static List<Pass> BuildPasses(Options o) =>
            o.PipelineOverride is { } p ? PipelineParser.Parse(p) : PipelineRegistry.Build("deploy");

        private static ModelResult RunModel(Options o, BenchModel model, string mopt, string? native, string? self, string dir)
        {
            var r = new ModelResult(model);
            Console.WriteLine();
            Console.WriteLine($"=== {model.Name}: {model.Description}");
            r.Original = GraphStats.Of(model.Path);
            string input = model.Path, stem = Path.Combine(dir, model.Name.Replace('/', '_'));

            r.Tools.Add(new ProcTool(MoptName, mopt, [input, o.PipelineFlag, .. o.Tool.MoptArgs, "-o", stem + ".mopt.onnx"], o.Tool.MoptEnv, stem + ".mopt.onnx"));
            if (native is not null) r.Tools.Add(new ProcTool(OrtName, native, ["basic", input, stem + ".ort-basic.onnx"], [], stem + ".ort-basic.onnx"));
            if (self is not null) r.Tools.Add(new ProcTool(OrtDotnetName, self, ["--ort-optimize", "basic", input, stem + ".ort-basic-dotnet.onnx"], [], stem + ".ort-basic-dotnet.onnx"));

            // Optimize, as whole processes: one warm-up each, then interleaved timed runs. Each output is deleted first
            // (untimed): replacing a file would add the kernel's cost of freeing the old one.
            void RunOnce(ProcTool t, bool record)
            {
                if (t.Failure is not null) return;
                File.Delete(t.Output);
                try
                {
                    var s = RunTool(t.Path, t.Args, t.Env, t.Name, err => err.Contains("Execution time report", StringComparison.Ordinal));
                    if (record) t.Samples.Add(s);
                }
                catch (BenchException e)
                {
                    t.Failure = e.Message;
                    r.Problems.Add(e.Message);
                }
            }
            foreach (var t in r.Tools) RunOnce(t, record: false);
            for (int i = 0; i < o.OptRuns; i++)
                foreach (var t in r.Tools) RunOnce(t, record: true);

            if (o.InProcess) InProcess(o, r, input, stem);

            var moptTool = r.MoptTool;
            var ortTool = r.OrtTool;
            if (moptTool is not null) r.Mopt = Stats(moptTool.Output, r);
            if (ortTool is not null) r.Ort = Stats(ortTool.Output, r);

            // Latency and outputs: the original and each output in ONNX Runtime with nothing optimized.
            try
            {
                var sessions = new List<TimedSession>();
                try
                {
                    List<(string Name, ElementType Element, long[] Shape)> inputs;
                    using (var probeOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR })
                    using (var probe = new InferenceSession(input, probeOptions))
                        inputs = probe.InputMetadata.Select(kv => (kv.Key, Backend.Runtime.OrtRunner.ElementOf(kv.Value.ElementDataType),
                        kv.Value.Dimensions.Select(x => (long)x).ToArray())).ToList();
                    var feeds = Backend.Runtime.RandomInputs.For(inputs, o.Seed);
                    var order = inputs.Select(i => i.Name).ToList();
                    sessions.Add(new TimedSession("original", input, feeds, GraphOptimizationLevel.ORT_DISABLE_ALL, order, keepFirstOutputs: true));
                    if (moptTool is not null) sessions.Add(new TimedSession(MoptName, moptTool.Output, feeds, GraphOptimizationLevel.ORT_DISABLE_ALL, order, keepFirstOutputs: true));
                    if (ortTool is not null) sessions.Add(new TimedSession(OrtName, ortTool.Output, feeds, GraphOptimizationLevel.ORT_DISABLE_ALL, order, keepFirstOutputs: true));
                    r.Repeat = Latency.Measure(sessions, o.Warmup, o.Runs, o.MinRunMs / 1e3);

                    var original = sessions[0];
                    r.LatOriginal = DeployLatency.Of(original);
                    var m = sessions.FirstOrDefault(s => s.Name == MoptName);
                    var t = sessions.FirstOrDefault(s => s.Name == OrtName);
                    if (m is not null) { r.LatMopt = DeployLatency.Of(m); r.DiffMopt = DeployLatency.MaxRelDiff(original, m, r.Problems); }
                    if (t is not null) { r.LatOrt = DeployLatency.Of(t); r.DiffOrt = DeployLatency.MaxRelDiff(original, t, r.Problems); }
                    if (m is not null && t is not null)
                    {
                        r.PairedLatency = Latency.PairedRatio(m, t);
                        r.LatencyInterval = DeployLatency.RatioInterval(m, t);
                        if (ThreadCpu.Available) r.CpuLatencyRatio = r.LatMopt!.CpuMs / r.LatOrt!.CpuMs;
                    }
                }
                finally
                {
                    foreach (var s in sessions) s.Dispose();
                }
            }
            catch (Exception e) when (e is BenchException or MirException or OnnxRuntimeException)
            {
                r.Problems.Add($"latency: {e.Message.Split('\n')[0]}");
            }
            return r;
        }

        private static GraphStats? Stats(string path, ModelResult r)
        {
            try { return GraphStats.Of(path); }
            catch (Exception e) when (e is IOException or Google.Protobuf.InvalidProtocolBufferException)
            {
                r.Problems.Add($"cannot read '{path}': {e.Message}");
                return null;
            }
        }

        /// <summary>
        /// The optimizers in this process, JIT-warm: what mopt-opt does (read, run the pipeline with each pass verified,
        /// write) through mopt's library, and ORT's C# API at ORT_ENABLE_BASIC writing its optimized model; interleaved.
        /// </summary>
        private static void InProcess(Options o, ModelResult r, string input, string stem)
        {
            string moptOut = stem + ".mopt-inprocess.onnx", ortOut = stem + ".ort-inprocess.onnx";
            bool moptOk = r.Tools.Any(t => t.Name == MoptName && t.Failure is null);
            double Mopt()
            {
                File.Delete(moptOut);
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                var clock = Stopwatch.StartNew();
                var module = ModelReaders.For(input).Read(input);
                var pm = new PassManager { Services = new PassServices { ModelRunner = new OrtModelRunner(), FallbackEvaluator = OrtOpEvaluator.Evaluate } }; // as mopt-opt: ONNX Runtime behind fold-constants
                pm.Passes.AddRange(BuildPasses(o));
                pm.Run(module);
                var writer = ModelWriters.For(moptOut, new PrintOptions());
                AtomicFile.Write(moptOut, s => writer.Write(module, s, moptOut));
                return clock.Elapsed.TotalSeconds;
            }
            double Ort()
            {
                File.Delete(ortOut);
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                var clock = Stopwatch.StartNew();
                OrtOptimize.Optimize(GraphOptimizationLevel.ORT_ENABLE_BASIC, input, ortOut);
                return clock.Elapsed.TotalSeconds;
            }
            try
            {
                for (int i = 0; i <= o.OptRuns; i++)
                {
                    // run 0 is the warm-up
                    if (moptOk) { double s = Mopt(); if (i > 0) r.MoptInProcess.Add(s); }
                    double t = Ort();
                    if (i > 0) r.OrtInProcess.Add(t);
                }
            }
            catch (Exception e) when (e is MirException or PipelineException or OnnxRuntimeException)
            {
                r.Problems.Add($"in process: {e.Message.Split('\n')[0]}");
            }
            finally
            {
                File.Delete(moptOut);
                File.Delete(ortOut);
            }
        }
    }
}
