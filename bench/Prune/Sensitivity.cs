using Mopt.Passes;

namespace Mopt.Bench.Prune;

/// <summary>One timed sensitivity analysis setting: the worker count, the median wall seconds and the layers x ratios it measured.</summary>
public sealed record SensitivityTiming(int Workers, double Seconds, int Points, string Command);

/// <summary>
/// mopt-opt's --prune-sensitivity (issue 15, part 4), timed with 1 and 2 workers on the held-out digits with their labels.
/// A build without the pass (it is registered in PassRegistry once it lands) reports "not available" instead.
/// </summary>
public static class Sensitivity
{
    public const string PassName = "prune-sensitivity";
    public const string Ratios = "0.1,0.2,0.3,0.4,0.5";

    public static bool Available => PassRegistry.Find(PassName) is not null;

    public static List<SensitivityTiming> Measure(string mopt, DigitsNet net, string unpruned, string dir, int runs, int[] workers)
    {
        var timings = new List<SensitivityTiming>();
        string output = Path.Combine(dir, $"{net.Name}.sensitivity.onnx");
        foreach (int w in workers)
        {
            string report = Path.Combine(dir, $"{net.Name}.sensitivity.w{w}.json");
            string options = $"params={net.Params} data={Path.Combine(net.EvalDir, "data")} labels={Path.Combine(net.EvalDir, "labels.npy")} " +
                             $"ratios={Ratios} workers={w} report={report}";
            string[] args = [unpruned, "--infer-shapes", $"--{PassName}={options}", "-o", output];
            var seconds = new List<double>();
            for (int r = 0; r < runs; r++)
            {
                // the analysis resumes from an existing report: without deleting it a run would measure nothing
                File.Delete(report);
                File.Delete(output);
                seconds.Add(BenchSupport.RunTool(mopt, args, [], $"mopt-opt --{PassName} (workers={w})").Wall);
            }
            timings.Add(new SensitivityTiming(w, BenchSupport.Median(seconds), CountPoints(report),
                $"mopt-opt UNPRUNED --infer-shapes --{PassName}='params={net.Params} data=DIR labels=FILE ratios={Ratios} workers={w} report=X.json'"));
        }
        return timings;
    }

    /// <summary>How many (layer, ratio) points the JSON report holds, for the output; -1 when it cannot be told.</summary>
    private static int CountPoints(string report)
    {
        if (!File.Exists(report)) return -1;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(report));
            return Count(doc.RootElement);
        }
        catch (System.Text.Json.JsonException) { return -1; }
    }

    /// <summary>The measured points: objects that carry a "ratio" (the report's layout is the pass's; counted without assuming more).</summary>
    private static int Count(System.Text.Json.JsonElement e) => e.ValueKind switch
    {
        System.Text.Json.JsonValueKind.Object => (e.TryGetProperty("ratio", out _) ? 1 : 0) + e.EnumerateObject().Sum(p => Count(p.Value)),
        System.Text.Json.JsonValueKind.Array => e.EnumerateArray().Sum(Count),
        _ => 0,
    };
}
