using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using static Mopt.Bench.BenchSupport;

namespace Mopt.Bench.LargeModel;

/// <summary>The 2.5 GB model: mopt-opt's round trip and deploy against ONNX Runtime's basic optimizer, wall and peak RSS.</summary>
public static class LargeModelBench
{
    private sealed record Tool(string Name, string Exe, string[] Args, string Output)
    {
        public List<Sample> Samples { get; } = [];
    }

    public static int Run(LargeModelOptions o)
    {
        string root = RepoRoot();
        string mopt = o.Tool.MoptPath(root);
        foreach (var tool in new[] { mopt, "/usr/bin/time" })
            if (!File.Exists(tool)) throw new BenchException($"'{tool}' not found");
        string ortOptimize = OrtNativeDriver.Build("ort-optimize", out var problem) ?? throw new BenchException($"cannot build the ONNX Runtime driver: {problem}");

        // On disk, not tmpfs: the model and three outputs are ~10 GB, and tmpfs pages would be memory themselves.
        bool temporary = o.Tool.Dir is null;
        string dir = o.Tool.Dir is { } d ? Directory.CreateDirectory(d).FullName : Directory.CreateTempSubdirectory("mopt-large-").FullName;
        try
        {
            string model = Path.Combine(dir, "model.onnx");
            var clock = Stopwatch.StartNew();
            long size = LargeModelFile.Write(model, o.Layers, o.Width);
            Console.WriteLine($"model:  {o.Layers} x (Gemm {o.Width}x{o.Width} + BatchNormalization + Relu), {size / 1e9:F2} GB " +
                              $"({size / 1048576.0:F0} MiB) with the weights in model.onnx.data; written in {clock.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine($"        {dir}   (load average {LoadAverage()})");

            var tools = new List<Tool>
            {
                new("mopt round trip", mopt, [model, .. o.Tool.MoptArgs, "-o", Path.Combine(dir, "rt.onnx")], Path.Combine(dir, "rt.onnx")),
                new("mopt deploy", mopt, [model, "--pipeline=deploy", .. o.Tool.MoptArgs, "-o", Path.Combine(dir, "dep.onnx")], Path.Combine(dir, "dep.onnx")),
                new("ORT basic", ortOptimize, ["basic", model, Path.Combine(dir, "ort.onnx"), "external-data"], Path.Combine(dir, "ort.onnx")),
            };
            for (int run = 0; run < o.Runs; run++)
                foreach (var t in tools)
                {
                    Delete(t.Output);
                    var env = t.Exe == mopt ? o.Tool.MoptEnv : [];
                    t.Samples.Add(RunTool(t.Exe, t.Args, env, t.Name, err => o.Tool.MoptArgs.Count > 0));
                    Console.Error.Write('.');
                }
            Console.Error.WriteLine();

            double modelMiB = size / 1048576.0;
            var ort = tools[2];
            double ortWall = Median(ort.Samples.Select(s => s.Wall));
            string[] head = ["step", "wall s", "cpu s", "peak RSS MiB", "peak / model size", "wall / ORT basic", "target", ""];
            var rows = new List<string[]>();
            bool allMet = true;
            foreach (var t in tools)
            {
                double wall = Median(t.Samples.Select(s => s.Wall)), cpu = Median(t.Samples.Select(s => s.Cpu)), peak = t.Samples.Max(s => s.PeakMiB);
                string target = "";
                bool met = true;
                if (t == tools[0]) { target = "peak <= 0.3x"; met = peak <= 0.3 * modelMiB; }
                if (t == tools[1]) { target = "peak <= 1.1x, wall <= 1.5x"; met = peak <= 1.1 * modelMiB && wall <= 1.5 * ortWall; }
                allMet &= met;
                rows.Add([t.Name, $"{wall:F2}", $"{cpu:F2}", $"{peak:F0}", $"{peak / modelMiB:F2}x", $"{wall / ortWall:F2}x", target, target.Length == 0 ? "" : met ? "PASS" : "FAIL"]);
            }
            TextTable.Print(head, rows);
            Console.WriteLine($"wall and cpu: medians of {o.Runs} runs; peak: the largest of them (GNU time's maximum resident set size, which counts mapped file pages)");

            if (o.Check)
            {
                Console.WriteLine("outputs in ONNX Runtime (ORT_DISABLE_ALL) on one seeded input, against the original model:");
                var input = new float[o.Width];
                var random = new Random(7);
                for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
                var reference = RunModel(model, input);
                foreach (var t in tools)
                {
                    var got = RunModel(t.Output, input);
                    double diff = MaxRelativeDifference(got, reference);
                    Console.WriteLine($"  {t.Name,-16} max relative difference {diff:E2} {(diff <= 1e-4 ? "ok" : "MISMATCH")}");
                    if (diff > 1e-4) return 1;
                }
            }
            return allMet || !o.Tool.Strict ? 0 : 2;
        }
        finally
        {
            if (temporary && !o.Tool.Keep) Directory.Delete(dir, recursive: true);
        }
    }

    private static void Delete(string output)
    {
        File.Delete(output);
        File.Delete(output + ".data");
    }

    public static float[] RunModel(string path, float[] input)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(path, options);
        using var x = OrtValue.CreateTensorValueFromMemory(input, [1, input.Length]);
        using var run = new RunOptions();
        using var results = session.Run(run, [session.InputNames[0]], [x], [session.OutputNames[0]]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>max|a-b| / max|b|.</summary>
    public static double MaxRelativeDifference(float[] a, float[] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double diff = 0, scale = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)a[i] - b[i]));
            scale = Math.Max(scale, Math.Abs((double)b[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }
}
