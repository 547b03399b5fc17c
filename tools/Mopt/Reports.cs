using System.Globalization;
using Mopt.Passes;

namespace Mopt.Api;

/// <summary>The --timing and --pass-statistics reports, in mlir-opt's layout.</summary>
public static class Reports
{
    private const string Rule = "===-------------------------------------------------------------------------===";

    public static void Timing(TextWriter w, List<(string Name, TimeSpan Time)> before, List<PassRun> runs, TimeSpan output, TimeSpan total)
    {
        var rows = new List<(string, TimeSpan)>(before);
        foreach (var run in runs)
        {
            rows.Add((run.Pass.Name, run.Elapsed));
            rows.Add(($"  (verify after {run.Pass.Name})", run.VerifyElapsed));
        }
        rows.Add(("output", output));
        w.WriteLine(Rule);
        w.WriteLine("                         ... Execution time report ...");
        w.WriteLine(Rule);
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  Total Execution Time: {total.TotalSeconds:F4} seconds"));
        w.WriteLine();
        w.WriteLine("  ----Wall Time----  ----Name----");
        foreach (var (name, time) in rows) w.WriteLine(Row(time, total, name));
        w.WriteLine(Row(total, total, "Total"));
        w.WriteLine();
    }

    private static string Row(TimeSpan time, TimeSpan total, string name) =>
        string.Create(CultureInfo.InvariantCulture, $"  {time.TotalSeconds,9:F4} ({100 * time.TotalSeconds / Math.Max(total.TotalSeconds, 1e-9),5:F1}%)  {name}");

    public static void Statistics(TextWriter w, List<PassRun> runs)
    {
        if (runs.Count == 0) return;
        w.WriteLine(Rule);
        w.WriteLine("                         ... Pass statistics report ...");
        w.WriteLine(Rule);
        foreach (var run in runs) w.WriteLine($"{run.Pass.Name}: {run.Context.Summarize()}");
        w.WriteLine();
    }
}
