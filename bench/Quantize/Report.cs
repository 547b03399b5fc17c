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
            if (r.FloatLabels is { } fl)
                Console.WriteLine($"  evaluation: {r.EvalSamples} labelled test images; float top-1 against the labels {Pct(fl.LabelTop1)} ({fl.LabelCorrect}/{fl.LabelTotal}); " +
                                  $"calibration: {r.CalibrationSamples} training images");
            else
                Console.WriteLine($"  evaluation: {r.EvalSamples - r.RealSamples} generated{(r.RealSamples > 0 ? $" + {r.RealSamples} real (test_data_set)" : "")} samples; " +
                                  $"calibration: {(r.CalibrationSamples > 0 ? $"{r.CalibrationSamples} generated samples" : "none")}");
        }
        if (r.Failure is not null)
        {
            Console.WriteLine($"  FAILED: {r.Failure}");
            return;
        }
        Console.WriteLine($"  {"method",-18} | {"file MB",8} {"smaller",7} {"",4} | {"gzip MB",8} {"smaller",7} {"weights",7} {"",4} | " +
                          $"{"max rel err",11} {"top-1",20} {"",4} {"PSNR dB",7} | {"latency ms",10} {"ratio",6} {"paired",6} {"cpu",6} {"",4} | {"mopt-opt s",10} {"pass s",6}");
        foreach (var m in r.Methods)
        {
            if (m.Failure is not null)
            {
                Console.WriteLine($"  {m.Method.Name,-18} | FAILED: {m.Failure}");
                continue;
            }
            var s = m.Sizes!;
            var a = m.Accuracy!;
            string top1 = a.Top1 is { } t ? $"{Pct(t)} ({a.Top1Agree}/{a.Top1Total})" : "n/a";
            Console.WriteLine($"  {m.Method.Name,-18} | {Mb(s.Bytes),8} {r.SizeRatio(m),6:F2}x {Text(r.Size(m)),4} | " +
                              $"{Mb(s.Gzip),8} {Pct(r.GzipReduction(m)),7} {Pct(r.WeightsGzipReduction(m)),7} {Text(r.Gzip(m)),4} | " +
                              $"{Err(a.MaxRelError),11} {top1,20} {Text(r.Top1(m)),4} {Psnr(a.MinPsnr),7} | " +
                              $"{(m.LatencyMs is { } lm ? Ms(lm) : "—"),10} {m.LatencyRatio,6:F3} {m.PairedLatencyRatio,6:F3} {m.CpuLatencyRatio,6:F3} {Text(r.Latency(m)),4} | " +
                              $"{m.ProcessSeconds,10:F2} {(m.PassSeconds is { } p ? p.ToString("F2") : "—"),6}");
            if (a.RealTotal > 0)
                Console.WriteLine($"  {"",-16}   top-1 on the real test_data_set inputs alone: {a.RealAgree}/{a.RealTotal}");
            if (a.LabelTotal > 0)
                Console.WriteLine($"  {"",-16}   top-1 against the labels: {Pct2(a.LabelTop1)} ({a.LabelCorrect}/{a.LabelTotal}), " +
                                  $"{r.LabelLoss(m):+0.00;-0.00;0.00} points lost {Text(r.Loss(m))}");
        }
        LayerTableText(r);
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

    private static string Pct2(double? v) => v is { } x ? (100 * x).ToString("F2") + "%" : "—";

    /// <summary>The calibrated methods' per-layer SQNR side by side (dB of each layer's output in the int8 model; own: its quantization alone).</summary>
    private static void LayerTableText(ModelResult r)
    {
        var calibrated = r.Methods.Where(m => m.Layers is { Layers.Count: > 0 }).ToList();
        if (calibrated.Count == 0) return;
        Console.WriteLine($"  per layer, from mopt-opt's report: SQNR dB of the layer's output in the int8 model (own: quantizing it alone), on {calibrated[0].Layers!.Layers[0].Samples} calibration samples");
        Console.WriteLine($"    {"layer",-36} {"op",-10} " + string.Join(" ", calibrated.Select(m => $"{m.Method.Name,15}")));
        foreach (var layer in calibrated[0].Layers!.Layers.OrderBy(l => l.Name, StringComparer.Ordinal).Take(40))
        {
            var cells = calibrated.Select(m => m.Layers!.Layers.FirstOrDefault(l => l.Name == layer.Name) is { } f ? $"{Db(f.SqnrDb)} ({Db(f.OwnSqnrDb)})" : "—");
            Console.WriteLine($"    {Clip(layer.Name, 36),-36} {layer.OpType,-10} " + string.Join(" ", cells.Select(c => $"{c,15}")));
        }
        if (calibrated[0].Layers!.Layers.Count > 40) Console.WriteLine($"    ... {calibrated[0].Layers!.Layers.Count - 40} more layers in the reports");
        foreach (var m in calibrated.Where(m => m.Layers!.RangeMethods.Keys.Any(k => k.StartsWith("auto", StringComparison.Ordinal))))
            Console.WriteLine($"    [{m.Method.Name}] ranges chosen: " + string.Join(", ", m.Layers!.RangeMethods.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")));
    }

    private static string Db(double? d) => d is not { } v ? "—" : double.IsPositiveInfinity(v) ? "exact" : v.ToString("F1");
    private static string Clip(string s, int width) => s.Length <= width ? s : "..." + s[^(width - 3)..];

    /// <summary>Every model x method with its verdicts, then how many meet each target. True when every target is met.</summary>
    public static bool Summary(List<ModelResult> results)
    {
        Console.WriteLine();
        Console.WriteLine("summary: each method against the float model (--pipeline=deploy) in ONNX Runtime; — = target not applicable");
        Console.WriteLine($"  {"model",-24} {"method",-18} | {"smaller",7} {"3.9/6x",6} | {"gzip",6} {">=70%",5} | {"top-1",6} {">=99%",5} | {"lost",6} {"<=1.0",5} | {"latency",7} {"(cpu)",6} {"<=1.00",6} | {"mopt-opt s",10}");
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
                Console.WriteLine($"  {r.Model.Name,-24} {"(all)",-18} | FAILED: {r.Failure}");
                failures.Add($"{r.Model.Name}: {r.Failure}");
                foreach (var t in new[] { "size", "top-1", "latency", "gzip" }) Count(t, Verdict.Fail);
                if (r.Model.Labelled is not null) Count("loss", Verdict.Fail);
                continue;
            }
            foreach (var m in r.Methods)
            {
                if (m.Failure is not null) failures.Add($"{r.Model.Name} {m.Method.Name}: {m.Failure}");
                Verdict size = r.Size(m), gzip = r.Gzip(m), top1 = r.Top1(m), latency = r.Latency(m), loss = r.Loss(m);
                Count(m.Method.Name == QuantMethods.DefaultName ? "default-loss" : "loss", loss);
                string lost = r.LabelLoss(m) is { } ll ? ll.ToString("+0.00;-0.00;0.00") : "";
                Count("size", size);
                Count("gzip", gzip);
                Count("top-1", top1);
                Count("latency", latency);
                string ratio = m.Method.Kind == MethodKind.Rounding || r.SizeRatio(m) is not { } sr ? "" : sr.ToString("F2") + "x";
                string gz = m.Method.Kind != MethodKind.Rounding ? "" : Pct(r.GzipReduction(m));
                string t1 = m.Accuracy?.Top1 is { } t ? Pct(t) : m.Accuracy?.MinPsnr is { } p ? Psnr(p) + "dB" : "";
                string lat = m.LatencyRatio is { } l ? l.ToString("F3") : "";
                string cpu = m.CpuLatencyRatio is { } c ? $"({c:F3})" : "";
                Console.WriteLine($"  {r.Model.Name,-24} {m.Method.Name,-18} | {ratio,7} {Text(size),6} | {gz,6} {Text(gzip),5} | {t1,6} {Text(top1),5} | " +
                                  $"{lost,6} {Text(loss),5} | {lat,7} {cpu,6} {Text(latency),6} | {(m.ProcessSeconds is { } s ? s.ToString("F2") : m.Failure is null ? "" : "FAILED"),10}");
            }
        }
        Console.WriteLine("  (lost: top-1 points lost against the labels, for a model trained here on a labelled dataset (<= 0.3 for the default method); top-1 column: PSNR in dB where a model has no class output; latency: median wall time method / float, the verdict's number, and " +
                          "thread CPU time in parentheses; latency is a target for the int8 methods only, size for the int8 ones, gzip for round-weights; " +
                          "digits_cnn, 0.16 MB and 18 µs an inference, is held to its accuracy targets only: fixed per-tensor overheads dominate its size and latency)");
        Console.WriteLine();
        Console.WriteLine("  target                                                  met");
        bool all = true;
        foreach (var (key, text) in new[]
                 {
                     ("size", "file >= 3.9x smaller than float (int8; 4-bit: >= 6.0x)"),
                     ("top-1", "top-1 agreement with float >= 99%"),
                     ("loss", "labelled model: a calibrated method loses <= 1.0 top-1 point"),
                     ("default-loss", "labelled model: the default method loses <= 0.3 point"),
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
