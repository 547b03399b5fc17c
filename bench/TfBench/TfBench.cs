using System.Runtime.InteropServices;
using Mopt.Backend.Runtime;
using Mopt.Frontend.Tf;
using Mopt.Ir;
using Mopt.Tests.Tf;
using Mopt.Tf.Proto;
using Mopt.Tools.Opt;
using OpenCvSharp;
using OpenCvSharp.Dnn;

namespace Mopt.Bench.Tf;

/// <summary>
/// The TF benchmark: per graph, mopt-opt in process (import + write, tf-deploy, lowering) against OpenCV's importer
/// on the same file, timed the same way (Stopwatch around the call, median after warm-up runs, runs interleaved), with
/// node counts and the lowered model's outputs in ONNX Runtime against OpenCV's.
/// </summary>
public static class TfBench
{
    private sealed record Row(OpenCvTfGraph Graph, int Nodes, string DeployNodes, Timing Import, Timing Pb, Timing Deploy, Timing Onnx, Timing OpenCv,
        StepRatio? ImportRatio, StepRatio? PbRatio, StepRatio? DeployRatio, string OpenCvFile, string OrtVsOpenCv, string CopyVsOriginal);

    public static int Run(TfBenchOptions o)
    {
        string models = Path.GetFullPath(o.Models ?? Path.Combine(BenchSupport.RepoRoot(), "..", "shared", "models", "tf"));
        if (!Directory.Exists(models)) throw new BenchException($"no TensorFlow models at {models} (--models DIR)");
        var graphs = OpenCvTfGraphs.All.Where(g => o.Only.Count == 0 || o.Only.Contains(g.Name)).ToList();
        if (graphs.Count == 0) throw new BenchException($"--only names none of {string.Join(", ", OpenCvTfGraphs.All.Select(g => g.Name))}");

        bool temporary = o.Dir is null;
        string dir = o.Dir is { } d ? Directory.CreateDirectory(d).FullName : BenchSupport.TempDir();
        var notes = new SortedSet<string>(StringComparer.Ordinal);
        // OpenCV's own log would repeat, on stderr, the refusal that the notes explain
        Cv2.SetLogLevel(OpenCvSharp.LogLevel.SILENT);
        try
        {
            Console.WriteLine($"tf: {graphs.Count} graphs in {models}; median of {o.Runs} runs after {o.Warmup} warm-up runs, in one process; load average {BenchSupport.LoadAverage()}");
            var rows = graphs.Select(g => Measure(g, models, dir, o.Warmup, o.Runs, notes)).ToList();
            Print(rows, notes);
            bool missed = rows.Any(r => Ratio(r) is { } x && x > 1.0);
            return o.Strict && missed ? 2 : 0;
        }
        finally
        {
            if (temporary && !o.Keep) Directory.Delete(dir, recursive: true);
            else Console.WriteLine($"files kept in {dir}");
        }
    }

    private static Row Measure(OpenCvTfGraph g, string models, string dir, int warmup, int runs, SortedSet<string> notes)
    {
        Console.Error.WriteLine($"tf: {g.Name} ...");
        string original = Path.Combine(models, g.File);
        string stem = Path.Combine(dir, g.Name);
        int nodes = GraphDef.Parser.ParseFrom(File.ReadAllBytes(original)).Node.Count;

        // OpenCV imports the original where it can; where it refuses it (cifar10), the copy mopt writes, noted.
        string cvFile = original, cvWhich = "original";
        try { OpenCvReferee.Read(original).Dispose(); }
        catch (OpenCVException)
        {
            cvFile = OpenCvTfGraphs.WriteMoptCopy(original, TfImportOptions.Default, stem + ".copy.pb");
            cvWhich = "mopt's copy";
            notes.Add($"{g.Name}: OpenCV's time is on mopt's copy of the whole graph: {g.Note}");
        }

        string[] cut = [.. g.MoptCutArgs];
        string[] strip = g.CutAt.Count > 0 ? [$"--tf-transforms=strip_unused_nodes(type=float, shape=\"{g.ShapeText}\")"] : [];
        // What OpenCV's ReadNetFromTensorflow does, on mopt's side: read, parse, build the IR, verify it (mopt-opt's own first step).
        var import = new TimedStep("mopt import", () => { }, () =>
        {
            var module = TfImporter.ImportFile(original);
            DefinitionVerifier.Verify(module, Mopt.Dialects.StandardDialects.Registry);
            return null;
        });
        var pb = MoptStep.Create("mopt pb->pb", [original, "-o", stem + ".pb"], [stem + ".pb"], notes);
        var deploy = MoptStep.Create("tf-deploy", [original, .. cut, $"--pipeline=tf-deploy{{shape={g.ShapeText}}}", "-o", stem + ".deploy.pb"], [stem + ".deploy.pb"], notes);
        var onnx = MoptStep.Create("->onnx", [original, .. cut, .. strip, "--convert-tf-to-onnx", "-o", stem + ".onnx"], [stem + ".onnx"], notes);
        var cv = new TimedStep("OpenCV read", () => { }, () =>
        {
            using var net = CvDnn.ReadNetFromTensorflow(cvFile);
            return net is null || net.Empty() ? "OpenCV read an empty net" : null;
        });
        TimedStep[] steps = [import, pb, deploy, onnx, cv];
        foreach (var s in steps) s.WarmUp(warmup);
        for (int r = 0; r < runs; r++)
            foreach (var s in steps) s.Time();

        string deployNodes = deploy.Failure is null ? GraphDef.Parser.ParseFrom(File.ReadAllBytes(stem + ".deploy.pb")).Node.Count.ToString() : "n/a";
        string ortVsCv = onnx.Failure is null ? Try(() => OrtAgainstOpenCv(g, models, dir, stem + ".onnx")) : "n/a";
        string copyVsOriginal = g.OpenCvReadsOriginal && pb.Failure is null ? Try(() => Difference(Referee(g, models, stem + ".pb"), Referee(g, models, original))) : "-";
        return new Row(g, nodes, deployNodes, import.Result, pb.Result, deploy.Result, onnx.Result, cv.Result,
            import.PairedRatio(cv), pb.PairedRatio(cv), deploy.PairedRatio(cv), cvWhich, ortVsCv, copyVsOriginal);
    }

    private static float[] Referee(OpenCvTfGraph g, string models, string file) =>
        OpenCvReferee.Run(file, g.Input, g.OpenCvBlobShape, g.ToOpenCvBlob(OpenCvTfGraphs.InputValues(g, models)), [g.OpenCvLayer]).Single().Values;

    private static string OrtAgainstOpenCv(OpenCvTfGraph g, string models, string dir, string onnx)
    {
        var input = OpenCvTfGraphs.InputValues(g, models);
        using var ort = new OrtRunner(onnx);
        var feed = new NpyArray(ElementType.F32, [.. g.InputShape.Select(d => (long)d)], MemoryMarshal.AsBytes(input.AsSpan()).ToArray());
        string output = ort.OutputNames.Contains(g.Output) ? g.Output : ort.OutputNames.Single();
        var actual = ort.Run(new Dictionary<string, NpyArray> { [ort.InputNames.Single()] = feed }, [output])[output];
        var reference = Referee(g, models, OpenCvTfGraphs.FileForOpenCv(g, models, dir));
        return Difference(MemoryMarshal.Cast<byte, float>(actual.Data).ToArray(), reference);
    }

    private static string Difference(float[] actual, float[] reference) => OpenCvReferee.MaxRelativeDifference(actual, reference).ToString("G3");

    private static string Try(Func<string> f)
    {
        try { return f(); }
        catch (Exception e) when (e is MirException or OpenCVException or InvalidOperationException or IOException) { return "error: " + e.Message.Split('\n')[0]; }
    }

    /// <summary>
    /// The ratio the target is on, in CPU time (a step of a millisecond is often preempted on a shared machine, which
    /// moves wall time, not CPU time): mopt's import against OpenCV's, like for like (the whole pipelines are printed too).
    /// </summary>
    private static double? Ratio(Row r) => r.ImportRatio?.Cpu;

    private static string TimeCell(Timing t) => t.Milliseconds is null ? t.Reason : $"{t.Cell} ({t.CpuCell})";

    private static void Print(List<Row> rows, SortedSet<string> notes)
    {
        string[] head = ["graph", "nodes", "after tf-deploy", "mopt import ms", "mopt pb->pb ms", "tf-deploy->pb ms", "->onnx ms", "OpenCV read ms", "import/OpenCV", "pb->pb/OpenCV",
            "tf-deploy/OpenCV", "ORT vs OpenCV", "OpenCV: mopt .pb vs original", "target <= 1.0x (cpu)"];
        var cells = rows.Select(r => new[]
        {
            r.Graph.Name, r.Nodes.ToString(), r.DeployNodes, TimeCell(r.Import), TimeCell(r.Pb), TimeCell(r.Deploy), TimeCell(r.Onnx),
            TimeCell(r.OpenCv) + (r.OpenCvFile == "original" ? "" : "*"), r.ImportRatio?.Cell ?? "n/a", r.PbRatio?.Cell ?? "n/a", r.DeployRatio?.Cell ?? "n/a",
            r.OrtVsOpenCv, r.CopyVsOriginal, Ratio(r) is { } x ? (x <= 1.0 ? "PASS" : "FAIL") : "n/a",
        }).ToList();
        TextTable.Print(head, cells);
        Console.WriteLine("nodes: the original GraphDef; after tf-deploy: the .pb `--pipeline='tf-deploy{shape=...}'` writes (KWS cut at Reshape_1).");
        Console.WriteLine("ms: median wall (CPU) milliseconds in this process (mopt-opt's OptTool.Run; CvDnn.ReadNetFromTensorflow), * = OpenCV read mopt's copy.");
        Console.WriteLine("ratios: wall (CPU), the median over the rounds of mopt's time / OpenCV's in the same round.");
        Console.WriteLine("target: mopt's import (read, parse, build and verify the IR) <= 1.0x OpenCV's import (read, parse, build");
        Console.WriteLine("the net) of the same file, in CPU time (wall times of a millisecond on a shared machine are mostly other processes).");
        Console.WriteLine("differences: max|a-b| / max|b| over the output, b = OpenCV (the tests' referee; tolerance 1e-4).");
        foreach (var n in notes) Console.WriteLine("note: " + n);
    }
}
