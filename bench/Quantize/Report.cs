namespace Mopt.Bench.Quantize;

public static class Report
{
    public static string Text(Verdict v) => v switch { Verdict.Pass => "PASS", Verdict.Fail => "FAIL", _ => "—" };
    /// <summary>Milliseconds with 4-5 significant digits.</summary>
    public static string Ms(double ms) => ms.ToString(ms >= 100 ? "F1" : ms >= 10 ? "F2" : ms >= 1 ? "F3" : "F4");
    private static string Mb(long bytes) => bytes >= 100_000 ? (bytes / 1e6).ToString("F2") : (bytes / 1e6).ToString("F4");
    private static string Pct(double? v) => v is { } x ? (100 * x).ToString("F1") + "%" : "—";
    private static string Err(double? d) => d is not { } v ? "—" : v == 0 ? "0" : v.ToString("0.0e+0");
    private static string Psnr(double? d) => d is not { } v ? "—" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("F1");

    /// <summary>One model's table: the float model, then one row per method.</summary>
    public static void Model(ModelResult r)
    {
        if (r.FloatSizes is { } f)
        {
            Console.WriteLine($"  float (--pipeline=deploy): {Mb(f.Bytes)} MB, gzip -9 {Mb(f.Gzip)} MB (weights {Mb(f.WeightBytes)} MB, gzip {Mb(f.WeightsGzip)} MB)" +
                              (r.FloatLatencyMs is { } l ? $", latency {Ms(l)} ms{(r.Repeat > 1 ? $" (runs of {r.Repeat} inferences)" : "")}" : ""));
            Console.WriteLine($"  outputs: {r.Measures}");
            Console.WriteLine($"  evaluation: {r.EvalSamples - r.RealSamples} generated{(r.RealSamples > 0 ? $" + {r.RealSamples} real (test_data_set)" : "")} samples; " +
                              $"calibration: {(r.CalibrationSamples > 0 ? $"{r.CalibrationSamples} generated samples" : "none")}");
        }
        if (r.Failure is not null)
        {
            Console.WriteLine($"  FAILED: {r.Failure}");
            return;
        }
        Console.WriteLine($"  {"method",-16} | {"file MB",8} {"smaller",7} {"",4} | {"gzip MB",8} {"smaller",7} {"weights",7} {"",4} | " +
                          $"{"max rel err",11} {"top-1",20} {"",4} {"PSNR dB",7} | {"latency ms",10} {"ratio",6} {"paired",6} {"cpu",6} {"",4} | {"mopt-opt s",10} {"pass s",6}");
        foreach (var m in r.Methods)
        {
            if (m.Failure is not null)
            {
                Console.WriteLine($"  {m.Method.Name,-16} | FAILED: {m.Failure}");
                continue;
            }
            var s = m.Sizes!;
            var a = m.Accuracy!;
            string top1 = a.Top1 is { } t ? $"{Pct(t)} ({a.Top1Agree}/{a.Top1Total})" : "n/a";
            Console.WriteLine($"  {m.Method.Name,-16} | {Mb(s.Bytes),8} {r.SizeRatio(m),6:F2}x {Text(r.Size(m)),4} | " +
                              $"{Mb(s.Gzip),8} {Pct(r.GzipReduction(m)),7} {Pct(r.WeightsGzipReduction(m)),7} {Text(r.Gzip(m)),4} | " +
                              $"{Err(a.MaxRelError),11} {top1,20} {Text(r.Top1(m)),4} {Psnr(a.MinPsnr),7} | " +
                              $"{(m.LatencyMs is { } lm ? Ms(lm) : "—"),10} {m.LatencyRatio,6:F3} {m.PairedLatencyRatio,6:F3} {m.CpuLatencyRatio,6:F3} {Text(r.Latency(m)),4} | " +
                              $"{m.ProcessSeconds,10:F2} {(m.PassSeconds is { } p ? p.ToString("F2") : "—"),6}");
            if (a.RealTotal > 0)
                Console.WriteLine($"  {"",-16}   top-1 on the real test_data_set inputs alone: {a.RealAgree}/{a.RealTotal}");
        }
        Console.WriteLine("  the graph ONNX Runtime runs (ORT_ENABLE_ALL):");
        Console.WriteLine($"    [float] {r.FloatOrtOps}");
        foreach (var m in r.Methods.Where(m => m.OrtOps is not null)) Console.WriteLine($"    [{m.Method.Name}] {m.OrtOps}");
        var asInputs = r.Methods.Where(m => m.InitializersAsInputs > 0).Select(m => $"{m.Method.Name} {m.InitializersAsInputs}").ToList();
        if (r.InitializersAsInputs > 0 || asInputs.Count > 0)
            Console.WriteLine($"  note: initializers listed as graph inputs too (IR < 4 style, kept by mopt's exporter): float {r.InitializersAsInputs}" +
                              $"{(asInputs.Count > 0 ? ", " + string.Join(", ", asInputs) : "")}; ONNX Runtime treats them as overridable, " +
                              "not constant, which can keep it from fusing QDQ groups into integer kernels (see the op types above)");
        if (r.Methods.Any(m => m.Notes.Count > 0)) Console.WriteLine("  mopt-opt's statistics and notes:");
        foreach (var m in r.Methods.Where(m => m.Notes.Count > 0))
        {
            foreach (var n in m.Notes.Take(8)) Console.WriteLine($"    [{m.Method.Name}] {n}");
            if (m.Notes.Count > 8) Console.WriteLine($"    [{m.Method.Name}] ... ({m.Notes.Count - 8} more lines)");
        }
    }

    /// <summary>Every model x method with its verdicts, then how many meet each target. True when every target is met.</summary>
    public static bool Summary(List<ModelResult> results)
    {
        Console.WriteLine();
        Console.WriteLine("summary: each method against the float model (--pipeline=deploy) in ONNX Runtime; — = target not applicable");
        Console.WriteLine($"  {"model",-24} {"method",-16} | {"smaller",7} {">=3.9x",6} | {"gzip",6} {">=70%",5} | {"top-1",6} {">=99%",5} | {"latency",7} {"(cpu)",6} {"<=1.00",6} | {"mopt-opt s",10}");
        var counts = new Dictionary<string, (int Met, int Of)>();
        void Count(string target, Verdict v)
        {
            if (v == Verdict.NotApplicable) return;
            var (met, of) = counts.GetValueOrDefault(target);
            counts[target] = (met + (v == Verdict.Pass ? 1 : 0), of + 1);
        }
        var failures = new List<string>();
        foreach (var r in results)
        {
            if (r.Failure is not null)
            {
                Console.WriteLine($"  {r.Model.Name,-24} {"(all)",-16} | FAILED: {r.Failure}");
                failures.Add($"{r.Model.Name}: {r.Failure}");
                foreach (var t in new[] { "size", "top-1", "latency", "gzip" }) Count(t, Verdict.Fail);
                continue;
            }
            foreach (var m in r.Methods)
            {
                if (m.Failure is not null) failures.Add($"{r.Model.Name} {m.Method.Name}: {m.Failure}");
                Verdict size = r.Size(m), gzip = r.Gzip(m), top1 = r.Top1(m), latency = r.Latency(m);
                Count("size", size);
                Count("gzip", gzip);
                Count("top-1", top1);
                Count("latency", latency);
                string ratio = m.Method.Kind == MethodKind.Rounding || r.SizeRatio(m) is not { } sr ? "" : sr.ToString("F2") + "x";
                string gz = m.Method.Kind != MethodKind.Rounding ? "" : Pct(r.GzipReduction(m));
                string t1 = m.Accuracy?.Top1 is { } t ? Pct(t) : m.Accuracy?.MinPsnr is { } p ? Psnr(p) + "dB" : "";
                string lat = m.LatencyRatio is { } l ? l.ToString("F3") : "";
                string cpu = m.CpuLatencyRatio is { } c ? $"({c:F3})" : "";
                Console.WriteLine($"  {r.Model.Name,-24} {m.Method.Name,-16} | {ratio,7} {Text(size),6} | {gz,6} {Text(gzip),5} | {t1,6} {Text(top1),5} | " +
                                  $"{lat,7} {cpu,6} {Text(latency),6} | {(m.ProcessSeconds is { } s ? s.ToString("F2") : m.Failure is null ? "" : "FAILED"),10}");
            }
        }
        Console.WriteLine("  (top-1 column: PSNR in dB where a model has no class output; latency: median wall time method / float, the verdict's number, and " +
                          "thread CPU time in parentheses; latency is a target for the int8 methods only, size for the int8 ones, gzip for round-weights)");
        Console.WriteLine();
        Console.WriteLine("  target                                                  met");
        bool all = true;
        foreach (var (key, text) in new[]
                 {
                     ("size", "file >= 3.9x smaller than float (int8; 4-bit: >= 6.0x)"),
                     ("top-1", "top-1 agreement with float >= 99%"),
                     ("latency", "int8 latency <= float latency (QDQ methods)"),
                     ("gzip", "round-weights: gzip -9 of the file >= 70% smaller"),
                 })
        {
            var (met, of) = counts.GetValueOrDefault(key);
            all &= met == of;
            Console.WriteLine($"  {text,-55} {met,3}/{of,-3} {(of == 0 ? "—" : met == of ? "PASS" : "FAIL")}");
        }
        if (failures.Count == 0) Console.WriteLine("checks: every mopt-opt run exited 0 and every output loads and runs in ONNX Runtime: OK");
        else
        {
            Console.WriteLine($"checks FAILED ({failures.Count}):");
            foreach (var f in failures) Console.WriteLine($"  {f}");
        }
        return all && failures.Count == 0;
    }
}
