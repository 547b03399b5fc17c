using Mopt.Passes;

namespace Mopt.Bench.Prune;

/// <summary>One timed sensitivity analysis setting: the worker count, the median wall seconds, the layers and (layer, ratio) points its report holds.</summary>
public sealed record SensitivityTiming(int Workers, double Seconds, (int Layers, int Points) Measured, string Command, string Report);

/// <summary>
/// mopt-opt's --prune-sensitivity (issue 15, part 4), timed with 1 and 2 workers on the held-out digits with their labels.
/// A build without the pass (it is registered in PassRegistry once it lands) reports "not available" instead.
/// </summary>
public static class Sensitivity
{
    public const string PassName = "prune-sensitivity";
    public const string Ratios = "0.1,0.2,0.3,0.4,0.5";

    public static bool Available => PassRegistry.Find(PassName) is not null;

    public static List<SensitivityTiming> Measure(string mopt, DigitsNet net, IReadOnlyList<string> prepare, string dir, int runs, int[] workers)
    {
        var timings = new List<SensitivityTiming>();
        string output = Path.Combine(dir, $"{net.Name}.sensitivity.onnx");
        foreach (int w in workers)
        {
            string report = Path.Combine(dir, $"{net.Name}.sensitivity.w{w}.json");
            string options = $"params={net.Params} data={Path.Combine(net.EvalDir, "data")} labels={Path.Combine(net.EvalDir, "labels.npy")} " +
                             $"ratios={Ratios} workers={w} report={report}";
            string[] args = [net.ModelPath, .. prepare, $"--{PassName}={options}", "-o", output];
            var seconds = new List<double>();
            for (int r = 0; r < runs; r++)
            {
                // the analysis resumes from an existing report: without deleting it a run would measure nothing
                File.Delete(report);
                File.Delete(output);
                seconds.Add(BenchSupport.RunTool(mopt, args, [], $"mopt-opt --{PassName} (workers={w})").Wall);
            }
            timings.Add(new SensitivityTiming(w, BenchSupport.Median(seconds), CountPoints(report),
                $"mopt-opt NET.onnx {string.Join(' ', prepare)} --{PassName}='params={net.Params} data=DIR labels=FILE ratios={Ratios} workers={w} report=X.json'", report));
        }
        return timings;
    }

    /// <summary>(layers, points) in the JSON report (<c>"layers": {name: {ratio: loss}}</c>), for the output; (-1, -1) when it cannot be told.</summary>
    private static (int Layers, int Points) CountPoints(string report)
    {
        if (!File.Exists(report)) return (-1, -1);
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(report));
            if (!doc.RootElement.TryGetProperty("layers", out var layers) || layers.ValueKind != System.Text.Json.JsonValueKind.Object) return (-1, -1);
            var each = layers.EnumerateObject().Select(l => l.Value.ValueKind == System.Text.Json.JsonValueKind.Object ? l.Value.EnumerateObject().Count() : 0).ToList();
            return (each.Count, each.Sum());
        }
        catch (System.Text.Json.JsonException) { return (-1, -1); }
    }
}
