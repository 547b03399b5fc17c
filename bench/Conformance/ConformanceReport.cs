namespace Mopt.Bench.Conformance;

/// <summary>The console summary (counts per stage, top failure categories) and the full lists under the out folder.</summary>
public sealed class ConformanceReport(List<ConformanceTest> tests, ConformanceRunner runner, ConformanceOptions options)
{
    private const int TopCategories = 8;

    public void Print(TextWriter w, TimeSpan elapsed)
    {
        var results = runner.Results;
        var ort = results.Where(r => r.Stage == "ort").ToList();
        var skipped = ort.Where(r => r.Error?.StartsWith("runner:", StringComparison.Ordinal) == true).ToList();
        int ortPass = ort.Count(r => r.Passed), ortFail = ort.Count - ortPass - skipped.Count;
        w.WriteLine($"ONNX backend conformance ({options.DataDir}): {tests.Count} tests "
            + string.Join(", ", tests.GroupBy(t => t.Suite).Select(g => $"{g.Key} {g.Count()}")) + $", {elapsed.TotalSeconds:F0} s");
        w.WriteLine($"  ONNX Runtime: {ortPass} pass, {ortFail} fail (left out of mopt's counts), {skipped.Count} skipped (runner feeds tensors only)");
        Top(w, ort.Where(r => !r.Passed).ToList());
        w.WriteLine();
        w.WriteLine($"{"stage",-10} {"tests",6} {"pass",6} {"fail",6}");
        foreach (var stage in ConformanceOptions.AllStages.Where(options.Stages.Contains))
        {
            var rs = results.Where(r => r.Stage == stage).ToList();
            w.WriteLine($"{stage,-10} {rs.Count,6} {rs.Count(r => r.Passed),6} {rs.Count(r => !r.Passed),6}");
        }
        foreach (var stage in ConformanceOptions.AllStages.Where(options.Stages.Contains))
        {
            var failed = results.Where(r => r.Stage == stage && !r.Passed).ToList();
            if (failed.Count == 0) continue;
            w.WriteLine();
            w.WriteLine($"{stage}: {failed.Count} failures");
            Top(w, failed);
        }
        if (options.Stages.Contains("fold"))
        {
            w.WriteLine();
            w.WriteLine($"fold away entirely (only Constant nodes left), of {runner.FoldCompared} tests mopt folds correctly: "
                + $"mopt --fold-constants --dce {runner.MoptFoldedAway}, ONNX Runtime ORT_ENABLE_BASIC {runner.OrtFoldedAway}");
        }

        string failures = Path.Combine(options.OutDir, "failures.txt"), tsv = Path.Combine(options.OutDir, "results.tsv");
        using (var f = new StreamWriter(failures)) Full(f, results);
        File.WriteAllLines(tsv, results.Select(r => $"{r.Test}\t{r.Stage}\t{(r.Passed ? "pass" : "fail")}\t{r.Category}\t{r.Error}").Prepend("test\tstage\tstatus\tcategory\terror"));
        if (options.ListFailures) { w.WriteLine(); Full(w, results); }
        w.WriteLine();
        w.WriteLine($"every failure by stage and category: {failures}; every result: {tsv}");
    }

    private static void Top(TextWriter w, List<StageResult> failed)
    {
        var groups = failed.GroupBy(r => r.Category!).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        foreach (var g in groups.Take(TopCategories))
            w.WriteLine($"  {g.Count(),5}  {g.Key}   e.g. {g.First().Test}");
        if (groups.Count > TopCategories)
            w.WriteLine($"  {groups.Skip(TopCategories).Sum(g => g.Count()),5}  in {groups.Count - TopCategories} more categories");
    }

    private static void Full(TextWriter w, List<StageResult> results)
    {
        foreach (var stage in results.Where(r => !r.Passed).GroupBy(r => r.Stage))
        {
            w.WriteLine($"== {stage.Key}: {stage.Count()} failures");
            foreach (var g in stage.GroupBy(r => r.Category!).OrderByDescending(g => g.Count()))
            {
                w.WriteLine($"-- {g.Count()}  {g.Key}");
                foreach (var r in g) w.WriteLine($"   {r.Test}: {r.Error}");
            }
        }
    }
}
