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
        w.WriteLine("  ONNX Runtime passes by the opset of the default domain: "
            + string.Join(", ", runner.OrtPassOpsets.Values.GroupBy(v => v < 7 ? $"opset {v}" : "opsets 7 and up").OrderBy(g => g.Min())
                .Select(g => $"{g.Key}: {g.Count()}")));
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
                + $"mopt --fold-constants --dce {runner.MoptFoldedAway.Count}, ONNX Runtime ORT_ENABLE_BASIC {runner.OrtFoldedAway.Count}");
        }

        string failures = Path.Combine(options.OutDir, "failures.txt"), tsv = Path.Combine(options.OutDir, "results.tsv");
        using (var f = new StreamWriter(failures))
        {
            Full(f, results);
            var mopt = runner.MoptFoldedAway.ToHashSet(StringComparer.Ordinal);
            var ortOnly = runner.OrtFoldedAway.Where(t => !mopt.Contains(t)).ToList();
            var moptOnly = runner.MoptFoldedAway.Where(t => !runner.OrtFoldedAway.Contains(t)).ToList();
            f.WriteLine($"== fold away: {ortOnly.Count} tests ONNX Runtime basic folds to constants and mopt does not");
            foreach (var t in ortOnly) f.WriteLine("   " + t);
            f.WriteLine($"== fold away: {moptOnly.Count} tests mopt folds to constants and ONNX Runtime basic does not");
            foreach (var t in moptOnly) f.WriteLine("   " + t);
        }
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
