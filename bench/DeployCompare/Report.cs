using static Mopt.Bench.BenchSupport;

namespace Mopt.Bench.DeployCompare;

public static class Report
{
    private static string Verdict(bool ok) => ok ? "PASS" : "FAIL";
    /// <summary>Milliseconds with 4-5 significant digits: 123.4, 12.34, 1.234, 0.0123.</summary>
    public static string Ms(double ms) => ms.ToString(ms >= 100 ? "F1" : ms >= 10 ? "F2" : ms >= 1 ? "F3" : "F4");

    private static string Diff(double? d) => d is not { } v ? "—" : v == 0 ? "0" : v.ToString("0.0e+0");

    /// <summary>One model's table: one row per output (original, mopt-opt, ORT basic), then the comparison.</summary>
    public static void Model(ModelResult r, Options o)
    {
        var orig = r.Original!;
        Console.WriteLine($"  {"",-15} {"nodes",5} {"BatchNorm",9} {"init",5} {"MB",6} | {"optimize s",10} {"cpu s",6} {"peak MiB",8} {"in-proc s",9} | " +
                          $"{"latency ms",10} {"min ms",8} {"cpu ms",8} | max rel diff");
        void Row(string name, GraphStats? g, ProcTool? t, List<double>? inProcess, LatencyResult? lat, string diff)
        {
            string graph = g is null ? $"{"—",5} {"",9} {"",5} {"",6}" : $"{g.Nodes,5} {g.Count("BatchNormalization"),9} {g.Initializers,5} {g.FileBytes / 1e6,6:F1}";
            string opt = t is null ? $"{"",10} {"",6} {"",8}" : $"{t.MedianWall,10:F3} {t.MedianCpu,6:F3} {t.MedianPeak,8:F1}";
            string inproc = inProcess is { Count: > 0 } ? $"{Median(inProcess),9:F3}" : $"{"",9}";
            string latency = lat is null ? $"{"—",10} {"",8} {"",8}" : $"{Ms(lat.MedianMs),10} {Ms(lat.MinMs),8} {(ThreadCpu.Available ? Ms(lat.CpuMs) : "?"),8}";
            Console.WriteLine($"  {name,-15} {graph} | {opt} {inproc} | {latency} | {diff}");
        }
        Row("original", orig, null, null, r.LatOriginal, "(reference)");
        var mopt = r.Tools.FirstOrDefault(t => t.Name == DeployBench.MoptName);
        Row(DeployBench.MoptName, r.Mopt, r.MoptTool, r.MoptInProcess, r.LatMopt, Diff(r.DiffMopt));
        var ort = r.OrtTool;
        Row(ort?.Name ?? DeployBench.OrtName, r.Ort, ort, r.OrtInProcess, r.LatOrt, Diff(r.DiffOrt));
        foreach (var other in r.Tools.Where(t => t.Name != DeployBench.MoptName && t != ort && t.Failure is null && t.Samples.Count > 0))
            Console.WriteLine($"  {other.Name,-15} (process, for information: {other.MedianWall:F3} s wall, {other.MedianCpu:F3} s cpu, {other.MedianPeak:F1} MiB; " +
                              $"mopt/{other.Name} {(r.MoptTool is { } m ? (m.MedianWall / other.MedianWall).ToString("F2") + "x" : "—")}; " +
                              $"output {(ort is not null && File.Exists(other.Output) && File.Exists(ort.Output) ? SameBytes(other.Output, ort.Output) ? "byte-identical to " + ort.Name + "'s" : "differs from " + ort.Name + "'s" : "—")})");

        Console.WriteLine($"  ops       {"original:",-11} {orig.Histogram()}");
        if (r.Mopt is { } gm) Console.WriteLine($"            {DeployBench.MoptName + ":",-11} {gm.Histogram()}");
        if (r.Ort is { } go) Console.WriteLine($"            {DeployBench.OrtName + ":",-11} {go.Histogram()}");
        string per = r.Repeat > 1 ? $"ms per inference, each run {r.Repeat} inferences" : "ms";
        if (r.LatOriginal is { } lg) Console.WriteLine($"  latency   {"original:",-11} {Runs(lg)}   ({per})");
        if (r.LatMopt is { } lm) Console.WriteLine($"            {DeployBench.MoptName + ":",-11} {Runs(lm)}");
        if (r.LatOrt is { } lo) Console.WriteLine($"            {DeployBench.OrtName + ":",-11} {Runs(lo)}");

        string ortName = ort?.Name ?? DeployBench.OrtName;
        var parts = new List<string>();
        parts.Add(r.Mopt is { } a && r.Ort is { } b ? $"nodes {a.Nodes} vs {b.Nodes} {Verdict(r.NodesOk)}" : "nodes — FAIL");
        parts.Add(r.LatencyRatio is { } lr
            ? $"latency {lr:F3}x {Verdict(r.LatencyOk)} (95% interval {r.LatencyInterval?.Low:F3}-{r.LatencyInterval?.High:F3}{(r.LatencyWithinNoise ? ", within noise" : "")}; " +
              $"paired {r.PairedLatency:F3}x{(r.CpuLatencyRatio is { } c ? $", cpu {c:F3}x" : "")})"
            : "latency — FAIL");
        parts.Add(r.OptimizeRatio is { } or
            ? $"optimize {or:F2}x {Verdict(r.OptimizeOk)} (cpu {r.MoptTool!.MedianCpu / r.OrtTool!.MedianCpu:F2}x" +
              (r.MoptInProcess.Count > 0 && r.OrtInProcess.Count > 0 ? $", in process {Median(r.MoptInProcess) / Median(r.OrtInProcess):F2}x)" : ")")
            : "optimize — FAIL");
        parts.Add(r.DiffMopt is { } dm ? $"max rel diff {Diff(dm)} {Verdict(r.DiffOk)}" : "max rel diff — FAIL");
        Console.WriteLine($"  mopt/{ortName}: {string.Join(" | ", parts)}");
        foreach (var p in r.Problems) Console.WriteLine($"  PROBLEM: {p}");
        if (mopt?.Failure is not null && o.PipelineOverride is null && mopt.Failure.Contains("does not have", StringComparison.Ordinal))
            Console.WriteLine("  (the deploy pipeline's passes are missing from this mopt-opt: --pipeline-override runs the benchmark with other passes)");
    }

    private static string Runs(LatencyResult l) => string.Join(" ", l.WallMs.Select(w => w.ToString(w >= 100 ? "F0" : w >= 10 ? "F1" : w >= 1 ? "F2" : "F3")));

    /// <summary>The summary over models: each target PASS/FAIL per model, and totals. True when every target is met everywhere.</summary>
    public static bool Summary(List<ModelResult> results, Options o)
    {
        Console.WriteLine();
        Console.WriteLine($"summary: mopt-opt {o.PipelineFlag} against ONNX Runtime ORT_ENABLE_BASIC " +
                          $"(optimize time against {(results.Any(r => r.OrtTool?.Name == DeployBench.OrtName) ? "the C API process" : "the .NET process")})");
        Console.WriteLine($"  {"model",-24} | {"nodes: orig",11} {"mopt",5} {"ort",5} {"",4} | {"latency ms: orig",16} {"mopt",8} {"ort",8} {"ratio",6} {"",5} | " +
                          $"{"optimize s: mopt",16} {"ort",6} {"ratio",6} {"",4} | {"max rel diff: mopt",18} {"ort",7} {"",4}");
        static string N(int? v) => v?.ToString() ?? "—";
        static string F(double? v, string fmt) => v?.ToString(fmt) ?? "—";
        static string L(LatencyResult? l) => l is null ? "—" : Ms(l.MedianMs);
        foreach (var r in results)
        {
            Console.WriteLine($"  {r.Model.Name,-24} | {N(r.Original?.Nodes),11} {N(r.Mopt?.Nodes),5} {N(r.Ort?.Nodes),5} {Verdict(r.NodesOk),4} | " +
                              $"{L(r.LatOriginal),16} {L(r.LatMopt),8} {L(r.LatOrt),8} {F(r.LatencyRatio, "F3"),6} {Verdict(r.LatencyOk) + (r.LatencyWithinNoise ? "*" : ""),-5} | " +
                              $"{F(r.MoptTool?.MedianWall, "F3"),16} {F(r.OrtTool?.MedianWall, "F3"),6} {F(r.OptimizeRatio, "F2"),6} {Verdict(r.OptimizeOk),4} | " +
                              $"{Diff(r.DiffMopt),18} {Diff(r.DiffOrt),7} {Verdict(r.DiffOk),4}");
        }
        // Totals over the models where both sides have a number.
        var both = results.Where(r => r.Mopt is not null && r.Ort is not null).ToList();
        var lat = results.Where(r => r.LatencyRatio is not null).ToList();
        var opt = results.Where(r => r.OptimizeRatio is not null).ToList();
        int nm = both.Sum(r => r.Mopt!.Nodes), no = both.Sum(r => r.Ort!.Nodes), ng = both.Sum(r => r.Original!.Nodes);
        double lm = lat.Sum(r => r.LatMopt!.MedianMs), lo = lat.Sum(r => r.LatOrt!.MedianMs), lg = lat.Sum(r => r.LatOriginal!.MedianMs);
        double om = opt.Sum(r => r.MoptTool!.MedianWall), oo = opt.Sum(r => r.OrtTool!.MedianWall);
        double? worstDiff = results.Count > 0 && results.All(r => r.DiffMopt is not null) ? results.Max(r => r.DiffMopt!.Value) : null;
        double? worstOrt = results.Where(r => r.DiffOrt is not null).Select(r => r.DiffOrt!.Value).DefaultIfEmpty().Max();
        Console.WriteLine($"  {"total (sum; diff: max)",-24} | {ng,11} {nm,5} {no,5} {Verdict(nm <= no && both.Count == results.Count),4} | " +
                          $"{Ms(lg),16} {Ms(lm),8} {Ms(lo),8} {(lo > 0 ? (lm / lo).ToString("F3") : "—"),6} {Verdict(lo > 0 && lm / lo <= 1.0 && lat.Count == results.Count),-5} | " +
                          $"{om,16:F3} {oo,6:F3} {(oo > 0 ? (om / oo).ToString("F2") : "—"),6} {Verdict(oo > 0 && om / oo <= 1.0 && opt.Count == results.Count),4} | " +
                          $"{Diff(worstDiff),18} {Diff(worstOrt),7} {Verdict(worstDiff is { } w && w <= Options.DiffTarget),4}");
        if (lat.Count > 0)
        {
            double geo(IEnumerable<double> xs) => Math.Exp(xs.Average(Math.Log));
            Console.WriteLine($"  geometric mean over models: latency mopt/ort {geo(lat.Select(r => r.LatencyRatio!.Value)):F3}x" +
                              (opt.Count > 0 ? $", optimize mopt/ort {geo(opt.Select(r => r.OptimizeRatio!.Value)):F2}x" : "") +
                              $"; latency mopt/original {geo(lat.Select(r => r.LatMopt!.MedianMs / r.LatOriginal!.MedianMs)):F3}x, ort/original {geo(lat.Select(r => r.LatOrt!.MedianMs / r.LatOriginal!.MedianMs)):F3}x");
        }
        if (results.Any(r => r.LatencyWithinNoise))
            Console.WriteLine("  * the 95% bootstrap interval of this latency ratio contains 1.00: the difference is within the run-to-run noise of this machine");
        Console.WriteLine();
        int n = results.Count;
        int nodesOk = results.Count(r => r.NodesOk), latOk = results.Count(r => r.LatencyOk), optOk = results.Count(r => r.OptimizeOk), diffOk = results.Count(r => r.DiffOk);
        Console.WriteLine("  target                                           models meeting it");
        Console.WriteLine($"  node count, mopt <= ORT basic                    {nodesOk}/{n}  {Verdict(nodesOk == n)}");
        Console.WriteLine($"  latency, mopt/ORT basic <= 1.00 (medians)        {latOk}/{n}  {Verdict(latOk == n)}");
        Console.WriteLine($"  optimize time, mopt/ORT basic <= 1.0x (process)  {optOk}/{n}  {Verdict(optOk == n)}");
        Console.WriteLine($"  max relative output difference <= 1e-5           {diffOk}/{n}  {Verdict(diffOk == n)}");
        var problems = results.Where(r => r.Problems.Count > 0).ToList();
        Console.WriteLine(problems.Count == 0
            ? "checks: every tool exited 0; every output loads in ONNX Runtime with the original's outputs and shapes: OK"
            : "checks FAILED: " + string.Join("; ", problems.Select(r => $"{r.Model.Name}: {r.Problems.Count} problem(s)")));
        if (o.PipelineOverride is not null)
            Console.WriteLine($"note: mopt-opt ran --pass-pipeline={o.PipelineOverride}, not --pipeline=deploy: these are not the benchmark's numbers");
        return nodesOk == n && latOk == n && optOk == n && diffOk == n;
    }
}
