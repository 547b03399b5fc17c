using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Mopt.Backend.Runtime;
using Mopt.Frontend;
using Mopt.Frontend.Paddle;
using Mopt.Ir;
using Mopt.Tests.Caffe;
using Mopt.Tools.Opt;

namespace Mopt.Bench.Paddle;

/// <summary>
/// The Paddle benchmark (issue 14): per model, mopt-opt in process (import; import + deploy + write Paddle, without and
/// with --round-weights) against ONNX Runtime making the lowered model ready (an InferenceSession), timed the same way;
/// the written files' sizes plain and gzip -9; ONNX Runtime latency of the lowered model, after --fold-bn and after
/// deploy, at ORT's default optimization level and with it off, on 1 thread and ORT's default threads.
/// </summary>
public static class PaddleBench
{
    /// <summary>The Paddle outputs written and measured (a format mopt-opt cannot write yet shows n/a); the first is the one timed.</summary>
    private static readonly string[] Formats = [".pdmodel", ".nb"];

    private static readonly (string Name, GraphOptimizationLevel Level)[] Levels =
        [("default", GraphOptimizationLevel.ORT_ENABLE_ALL), ("off", GraphOptimizationLevel.ORT_DISABLE_ALL)];

    private static readonly (string Name, int Threads)[] ThreadCounts = [("1", 1), ("default", 0)];

    private sealed record TimeRow(PaddleBenchModel Model, int Ops, int BatchNorms, string OpsAfter, string BatchNormsAfter, Timing Import, Timing Deploy, Timing Round, Timing Ort);

    private sealed record SizeRow(string Model, string Format, long[]? Params, long[]? Whole, string Reason);

    /// <summary>Saved: 1 - median over rounds of (time / lowered time), in %, of wall time and (on 1 thread, where ORT computes on the calling thread) of CPU time.</summary>
    private sealed record LatencyRow(string Model, int BatchNorms, string Level, string Threads, double Lowered, double Folded, double Deployed,
        double FoldSaved, double DeploySaved, double? FoldSavedCpu, double? DeploySavedCpu);

    private sealed record DiffRow(string Model, string FoldBn, string Deploy, string WrittenDeploy, string WrittenRounded, string RoundedRelative);

    public static int Run(PaddleBenchOptions o)
    {
        string models = Path.GetFullPath(o.Models ?? Path.Combine(BenchSupport.RepoRoot(), "..", "shared", "models"));
        if (!Directory.Exists(Path.Combine(models, "paddle"))) throw new BenchException($"no Paddle models in {models} (--models DIR)");
        var chosen = PaddleBenchModels.All.Where(m => o.Only.Count == 0 || o.Only.Contains(m.Name)).ToList();
        if (chosen.Count == 0) throw new BenchException($"--only names none of {string.Join(", ", PaddleBenchModels.All.Select(m => m.Name))}");

        bool temporary = o.Dir is null;
        string dir = o.Dir is { } d ? Directory.CreateDirectory(d).FullName : BenchSupport.TempDir();
        var notes = new SortedSet<string>(StringComparer.Ordinal);
        var times = new List<TimeRow>();
        var sizes = new List<SizeRow>();
        var latencies = new List<LatencyRow>();
        var diffs = new List<DiffRow>();
        try
        {
            string loadBefore = BenchSupport.LoadAverage();
            Console.WriteLine($"paddle: {chosen.Count} models from {models}; median of {o.Runs} runs after {o.Warmup} warm-up runs, in one process; " +
                $"ORT latency median of {o.LatencyRounds} rounds; {Environment.ProcessorCount} CPUs; load average {loadBefore}");
            foreach (var model in chosen)
            {
                Console.Error.WriteLine($"paddle: {model.Name} ...");
                string stem = Path.Combine(dir, model.Name);
                string source = Source(model, models, stem);
                times.Add(MeasureTimes(model, source, stem, o, notes));
                sizes.AddRange(MeasureSizes(model, source, stem, notes));
                var (rows, diff) = MeasureLatency(model, source, stem, o, times[^1].BatchNorms);
                latencies.AddRange(rows);
                diffs.Add(diff);
            }
            PrintTimes(times);
            PrintSizes(sizes);
            PrintLatency(latencies, diffs);
            foreach (var n in notes) Console.WriteLine("note: " + n);
            Console.WriteLine($"load average: {loadBefore} before, {BenchSupport.LoadAverage()} after");
            return 0;
        }
        finally
        {
            if (temporary && !o.Keep) Directory.Delete(dir, recursive: true);
            else Console.WriteLine($"files kept in {dir}");
        }
    }

    /// <summary>The Paddle model to measure: a real one as it is, another written as Paddle by mopt-opt first (untimed).</summary>
    private static string Source(PaddleBenchModel model, string models, string stem)
    {
        var input = model.InputArgs(models);
        if (model.Passes is null) return input[0];
        string written = stem + ".src.pdmodel";
        Opt([.. input, .. model.Passes, "-o", written], $"writing {model.Name} as Paddle");
        return written;
    }

    private static TimeRow MeasureTimes(PaddleBenchModel model, string source, string stem, PaddleBenchOptions o, SortedSet<string> notes)
    {
        var program = PaddleModelFiles.Read(source).Program;
        var ops = program.Blocks[0].Ops.Where(op => op.Type is not ("feed" or "fetch")).ToList();
        string lowered = stem + ".lowered.onnx";
        Opt([source, "-o", lowered], $"lowering {model.Name}");

        string deployOut = stem + ".deploy" + Formats[0], roundOut = stem + ".round" + Formats[0];
        var import = new TimedStep("import", () => { }, () =>
        {
            var module = ModelReaders.For(source).Read(source);
            DefinitionVerifier.Verify(module, Mopt.Dialects.StandardDialects.Registry);
            return null;
        });
        var deploy = MoptStep.Create("deploy->paddle", [source, "--pipeline=deploy", "-o", deployOut], [deployOut, Path.ChangeExtension(deployOut, ".pdiparams")], notes);
        var round = MoptStep.Create("+round->paddle", [source, "--pipeline=deploy", "--round-weights", "-o", roundOut], [roundOut, Path.ChangeExtension(roundOut, ".pdiparams")], notes);
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        var ort = new TimedStep("ORT session", () => { }, () =>
        {
            using var session = new InferenceSession(lowered, sessionOptions);
            return null;
        });
        TimedStep[] steps = [import, deploy, round, ort];
        foreach (var s in steps) s.WarmUp(o.Warmup);
        for (int r = 0; r < o.Runs; r++)
            foreach (var s in steps) s.Time();

        var after = deploy.Failure is null ? PaddleModelFiles.Read(deployOut).Program.Blocks[0].Ops : null;
        string opsAfter = after?.Count(op => op.Type is not ("feed" or "fetch")).ToString() ?? "n/a";
        string batchNormsAfter = after?.Count(op => op.Type == "batch_norm").ToString() ?? "n/a";
        return new TimeRow(model, ops.Count, ops.Count(op => op.Type == "batch_norm"), opsAfter, batchNormsAfter, import.Result, deploy.Result, round.Result, ort.Result);
    }

    /// <summary>Per output format: deploy, and deploy + --round-weights, written; the parameters file and the whole model, plain and gzip -9.</summary>
    private static IEnumerable<SizeRow> MeasureSizes(PaddleBenchModel model, string source, string stem, SortedSet<string> notes)
    {
        foreach (var format in Formats)
        {
            string plain = stem + ".size" + format, rounded = stem + ".size-round" + format;
            string? failure = TryOpt([source, "--pipeline=deploy", "-o", plain]) ?? TryOpt([source, "--pipeline=deploy", "--round-weights", "-o", rounded]);
            if (failure is not null)
            {
                string said = failure.Replace(plain, "out" + format).Replace(rounded, "out" + format); // one note for every model
                notes.Add($"{format}: n/a: {(said.Length > 110 ? said[..110] + "..." : said)}");
                yield return new SizeRow(model.Name, format, null, null, "n/a");
                continue;
            }
            // Each file's size and gzip -9 size once; the parameters (or the merged file) are the last file.
            var (p, r) = (WrittenFiles(plain).Select(Sizes).ToArray(), WrittenFiles(rounded).Select(Sizes).ToArray());
            yield return new SizeRow(model.Name, format, [p[^1].Plain, p[^1].Gzip, r[^1].Plain, r[^1].Gzip],
                [p.Sum(f => f.Plain), p.Sum(f => f.Gzip), r.Sum(f => f.Plain), r.Sum(f => f.Gzip)], "");
        }
    }

    /// <summary>The files a model written to <paramref name="path"/> consists of, the parameters (or the one merged file) last.</summary>
    private static string[] WrittenFiles(string path) =>
        Path.GetExtension(path) == ".pdmodel" ? [path, Path.ChangeExtension(path, ".pdiparams")] : [path];

    private static (long Plain, long Gzip) Sizes(string path)
    {
        using var input = File.OpenRead(path);
        return (input.Length, BenchSupport.GzipSize(input));
    }

    /// <summary>
    /// ONNX Runtime on the lowered model, after --fold-bn and after deploy, per optimization level and thread count (the
    /// three interleaved, median per inference); the outputs against the lowered model's, and those of the written
    /// Paddle models (deploy, deploy + round-weights) read back.
    /// </summary>
    private static (List<LatencyRow>, DiffRow) MeasureLatency(PaddleBenchModel model, string source, string stem, PaddleBenchOptions o, int batchNorms)
    {
        string lowered = stem + ".lowered.onnx", folded = stem + ".foldbn.onnx", deployed = stem + ".deploy.onnx";
        Opt([source, "--fold-bn", "-o", folded], $"--fold-bn on {model.Name}");
        Opt([source, "--pipeline=deploy", "-o", deployed], $"deploy on {model.Name}");
        var feeds = Feeds(lowered);

        var rows = new List<LatencyRow>();
        foreach (var (levelName, level) in Levels)
            foreach (var (threadsName, threads) in ThreadCounts)
            {
                using var a = new TimedSession("lowered", lowered, feeds, level, intraOpThreads: threads);
                using var b = new TimedSession("fold-bn", folded, feeds, level, intraOpThreads: threads);
                using var c = new TimedSession("deploy", deployed, feeds, level, intraOpThreads: threads);
                Latency.Measure([a, b, c], warmup: 5, o.LatencyRounds, minRunSeconds: 0.02);
                bool cpu = threads == 1 && ThreadCpu.Available;
                rows.Add(new LatencyRow(model.Name, batchNorms, levelName, threadsName, a.MedianMs, b.MedianMs, c.MedianMs,
                    100 * (1 - Latency.PairedRatio(b, a)), 100 * (1 - Latency.PairedRatio(c, a)),
                    cpu ? 100 * (1 - PairedCpuRatio(b, a)) : null, cpu ? 100 * (1 - PairedCpuRatio(c, a)) : null));
            }

        var reference = Outputs(lowered, feeds);
        string Diff(string path) => MaxAbsDiff(Outputs(path, feeds), reference).ToString("G3");
        string back = stem + ".back.onnx", backRounded = stem + ".back-round.onnx";
        Opt([stem + ".size" + Formats[0], "-o", back], $"reading {model.Name}'s written Paddle back");
        Opt([stem + ".size-round" + Formats[0], "-o", backRounded], $"reading {model.Name}'s rounded Paddle back");
        double scale = reference.Max(r => MemoryMarshal.Cast<byte, float>(r.Data).ToArray().Max(v => Math.Abs(v)));
        double rounded = MaxAbsDiff(Outputs(backRounded, feeds), reference);
        return (rows, new DiffRow(model.Name, Diff(folded), Diff(deployed), Diff(back), rounded.ToString("G3"), (rounded / Math.Max(scale, 1e-30)).ToString("G3")));
    }

    /// <summary>The median over rounds of a's thread CPU time / b's in the same round.</summary>
    private static double PairedCpuRatio(TimedSession a, TimedSession b) => BenchSupport.Median(a.Cpu.Zip(b.Cpu, (x, y) => x / y));

    /// <summary>The same seeded input (uniform in [-1, 1)) for every model's every input; a symbolic dimension is 1.</summary>
    private static Dictionary<string, NpyArray> Feeds(string onnx)
    {
        using var runner = new OrtRunner(onnx);
        var feeds = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        int seed = 14;
        foreach (var (name, element, shape) in runner.Inputs)
        {
            if (element != ElementType.F32) throw new BenchException($"{onnx}: input '{name}' is {element}, not f32");
            long[] dims = [.. shape.Select(d => d < 0 ? 1 : d)];
            var values = SeededValues.Uniform(seed++, (int)dims.Aggregate(1L, (x, y) => x * y));
            feeds[name] = new NpyArray(ElementType.F32, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        }
        return feeds;
    }

    private static List<NpyArray> Outputs(string onnx, Dictionary<string, NpyArray> feeds)
    {
        using var runner = new OrtRunner(onnx);
        var outputs = runner.Run(feeds);
        return [.. runner.OutputNames.Select(n => outputs[n])];
    }

    /// <summary>The largest |a - b| over every output, outputs matched by position (passes may rename them).</summary>
    private static double MaxAbsDiff(List<NpyArray> actual, List<NpyArray> reference)
    {
        if (actual.Count != reference.Count) throw new BenchException($"{actual.Count} outputs against {reference.Count}");
        double worst = 0;
        for (int i = 0; i < actual.Count; i++)
        {
            if (!actual[i].Shape.SequenceEqual(reference[i].Shape))
                throw new BenchException($"output {i}: shape [{string.Join(",", actual[i].Shape)}] against [{string.Join(",", reference[i].Shape)}]");
            var a = MemoryMarshal.Cast<byte, float>(actual[i].Data);
            var b = MemoryMarshal.Cast<byte, float>(reference[i].Data);
            for (int k = 0; k < a.Length; k++) worst = Math.Max(worst, Math.Abs((double)a[k] - b[k]));
        }
        return worst;
    }

    private static void Opt(string[] args, string what)
    {
        if (TryOpt(args) is { } failure) throw new BenchException($"{what}: mopt-opt {string.Join(" ", args)}: {failure}");
    }

    /// <summary>mopt-opt in process; null when it succeeded, else its first error line.</summary>
    private static string? TryOpt(string[] args)
    {
        var stderr = new StringWriter();
        return OptTool.Run(args, new StringWriter(), stderr) == 0 ? null : stderr.ToString().Trim().Split('\n')[0];
    }

    private static string TimeCell(Timing t) => t.Milliseconds is null ? t.Reason : $"{t.Cell} ({t.CpuCell})";

    private static string RatioCell(Timing mopt, Timing peer) =>
        mopt is { Milliseconds: { } m, CpuMilliseconds: { } mc } && peer is { Milliseconds: { } p, CpuMilliseconds: { } pc } ? $"{m / p:F2}x ({mc / pc:F2}x)" : "n/a";

    private static void PrintTimes(List<TimeRow> rows)
    {
        TextTable.Print(
            ["model", "from", "ops", "batch_norm", "ops after deploy", "batch_norm after", "import ms", "deploy->paddle ms", "+round->paddle ms", "ORT session ms", "deploy/ORT", "+round/ORT"],
            [.. rows.Select(r => new[]
            {
                r.Model.Name, r.Model.Origin, r.Ops.ToString(), r.BatchNorms.ToString(), r.OpsAfter, r.BatchNormsAfter, TimeCell(r.Import), TimeCell(r.Deploy),
                TimeCell(r.Round), TimeCell(r.Ort), RatioCell(r.Deploy, r.Ort), RatioCell(r.Round, r.Ort),
            })]);
        Console.WriteLine("ops, batch_norm: in the Paddle program measured (feed and fetch not counted); ops and batch_norm after deploy: in the Paddle program deploy writes.");
        Console.WriteLine($"ms: median wall (CPU) milliseconds in this process. deploy->paddle: mopt-opt model --pipeline=deploy -o out{Formats[0]} (import, lower,");
        Console.WriteLine("  optimize, write Paddle), +round: with --round-weights after deploy. ORT session: new InferenceSession on the lowered .onnx");
        Console.WriteLine("  (load + graph optimization, ORT_ENABLE_ALL, 1 thread): ONNX Runtime making the same model ready to run. ratios: wall (CPU).");
    }

    private static void PrintSizes(List<SizeRow> rows)
    {
        static string Kb(long b) => (b / 1024.0).ToString("F1");
        static string Saved(long before, long after) => before == 0 ? "n/a" : $"{100.0 * (before - after) / before:F1}%";
        TextTable.Print(
            ["model", "format", "params KB", "params gz KB", "rounded KB", "rounded gz KB", "gz saved", "model KB", "model gz KB", "rounded model gz KB", "model gz saved"],
            [.. rows.Select(r => r.Params is { } p && r.Whole is { } w
                ? new[] { r.Model, r.Format, Kb(p[0]), Kb(p[1]), Kb(p[2]), Kb(p[3]), Saved(p[1], p[3]), Kb(w[0]), Kb(w[1]), Kb(w[3]), Saved(w[1], w[3]) }
                : [r.Model, r.Format, r.Reason, "", "", "", "", "", "", "", ""])]);
        Console.WriteLine("Written after --pipeline=deploy, and after --pipeline=deploy --round-weights (bits=8, tensors of >= 1024 elements).");
        Console.WriteLine("params: the parameters file (.pdiparams; the one file for a merged format); model: every file written (.pdmodel + .pdiparams).");
        Console.WriteLine("gz: gzip -9 (System.IO.Compression, SmallestSize), each file on its own. gz saved: how much smaller the rounded file gzips than the unrounded one.");
    }

    private static void PrintLatency(List<LatencyRow> rows, List<DiffRow> diffs)
    {
        static string Saved(double wall, double? cpu) => cpu is { } c ? $"{wall:F1}% ({c:F1}%)" : $"{wall:F1}%";
        TextTable.Print(
            ["model", "batch_norm", "ORT opt", "threads", "lowered ms", "fold-bn ms", "deploy ms", "fold-bn saves", "deploy saves"],
            [.. rows.Select(r => new[]
            {
                r.Model, r.BatchNorms.ToString(), r.Level, r.Threads, r.Lowered.ToString("F3"), r.Folded.ToString("F3"), r.Deployed.ToString("F3"),
                Saved(r.FoldSaved, r.FoldSavedCpu), Saved(r.DeploySaved, r.DeploySavedCpu),
            })]);
        Console.WriteLine("ONNX Runtime, median ms per inference, the three models interleaved: lowered = mopt-opt model -o x.onnx (convert-paddle-to-onnx only),");
        Console.WriteLine("  fold-bn = mopt-opt model --fold-bn -o x.onnx, deploy = --pipeline=deploy. ORT opt: graph optimizations at ORT's default level");
        Console.WriteLine("  (ORT_ENABLE_ALL, which itself fuses BN into Conv) or off (ORT_DISABLE_ALL: a runtime that runs the graph as written).");
        Console.WriteLine("  threads: intra-op threads, 1 or ORT's default (one per core). saves: 1 - median over rounds of (time / lowered time), wall");
        Console.WriteLine("  (and thread CPU on 1 thread, where ORT computes on the calling thread: steadier on a loaded machine).");
        TextTable.Print(
            ["model", "fold-bn", "deploy", "written deploy", "written deploy+round", "round rel"],
            [.. diffs.Select(d => new[] { d.Model, d.FoldBn, d.Deploy, d.WrittenDeploy, d.WrittenRounded, d.RoundedRelative })]);
        Console.WriteLine("max |a-b| over the outputs against the lowered model, the same seeded input (ORT, optimizations off). written: the Paddle model");
        Console.WriteLine("  written after deploy (and with --round-weights) read back and lowered. round rel: the rounded one's max |a-b| / max |lowered|.");
    }
}
