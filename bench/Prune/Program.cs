using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using Mopt.Backend.Runtime;
using Mopt.Bench;
using Mopt.Bench.Prune;
using Mopt.Ir;
using static Mopt.Bench.BenchSupport;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
try
{
    return PruneBench.Run(Options.Parse(args));
}
catch (Exception e) when (e is BenchException or MirException)
{
    Console.Error.WriteLine($"prune: error: {e.Message}");
    return 1;
}

namespace Mopt.Bench.Prune
{
    public static partial class PruneBench
    {
        /// <summary>What every command runs before pruning: types for the planner, and the exporter's Identity copies of shared constants removed.</summary>
        private static readonly string[] Prepare = ["--infer-shapes", "--canonicalize"];

        private static readonly (string Name, GraphOptimizationLevel Level)[] OrtLevels =
            [("default", GraphOptimizationLevel.ORT_ENABLE_ALL), ("off", GraphOptimizationLevel.ORT_DISABLE_ALL)];

        public static int Run(Options o)
        {
            string root = RepoRoot();
            string mopt = o.Tool.MoptPath(root);
            foreach (var tool in new[] { mopt, "/usr/bin/time" })
                if (!File.Exists(tool)) throw new BenchException($"'{tool}' not found (scripts/setup.sh builds the shipped mopt-opt)");
            string dir = Directory.CreateDirectory(o.Tool.Dir ?? Path.Combine(root, "bench", "out", "prune")).FullName;
            string runs = Directory.CreateDirectory(Path.Combine(dir, "runs")).FullName;

            Console.WriteLine($"prune: mopt-opt --prune-channels against the unpruned model, in ONNX Runtime {OrtEnv.Instance().GetVersionString()}");
            Console.WriteLine($"mopt-opt:  {mopt}");
            Console.WriteLine($"unpruned:  mopt-opt NET.onnx {string.Join(' ', Prepare)} -o UNPRUNED.onnx   (the peer: same import and preparation, no pruning)");
            Console.WriteLine($"pruned:    mopt-opt NET.onnx {string.Join(' ', Prepare)} --prune-channels='params=REGEX ratio=R' --prune-report=R.json --timing -o OUT.onnx");
            Console.WriteLine("           multiply-adds and parameters from the report (parameters also counted here in OUT.onnx); 'prune s' the whole");
            Console.WriteLine($"           command (median of {o.PruneRuns} after a warm-up), 'pass s' the prune-channels line of its --timing");
            Console.WriteLine("top-1:     the held-out digits against their labels, ONNX Runtime; NO fine-tuning after pruning (mopt does not train):");
            Console.WriteLine("           the drop is what pruning alone costs, before any retraining");
            Console.WriteLine($"latency:   ONNX Runtime, 1 thread, sequential, default optimizations (ORT_ENABLE_ALL) and ORT_DISABLE_ALL (off); {o.Warmup} warm-up +");
            Console.WriteLine($"           {o.Rounds} timed rounds, each running every model once in rotating order; medians; 'ratio' = the median over rounds of");
            Console.WriteLine($"           pruned / unpruned in the same round (a run under {o.MinRunMs:G3} ms is K inferences back to back; times per inference)");
            Console.WriteLine("anchor:    PaddleSlim MobileNetV1, uniform -50% FLOPs (L1NormFilterPruner): 66.05 -> 33.56 ms in Paddle-Lite (1 thread,");
            Console.WriteLine("           Snapdragon 845), ratio 0.508 (docs/research/channel-pruning.md): for reference only, another runtime and model");
            Console.WriteLine($"machine:   {Environment.ProcessorCount} CPUs, load average {LoadAverage()}; work folder {dir}");

            var clock = Stopwatch.StartNew();
            bool noneRemoved = false;
            foreach (var name in o.Nets)
            {
                var net = DigitsNets.Load(name, root, dir, o.Retrain);
                Console.WriteLine();
                Console.WriteLine($"=== {net.Name}: {net.Description}");
                Console.WriteLine($"    pruned: params={net.Params}   (PyTorch top-1 after training: {100 * net.TorchTop1:F2}%)");
                // the analysis first: its table (workers=1) gives the ratio=auto rows
                var timings = Sensitivity.Available ? Sensitivity.Measure(mopt, net, Prepare, runs, o.SensitivityRuns, [1, 2]) : null;
                var rows = MeasureNet(o, mopt, net, runs, timings?[0].Report);
                noneRemoved |= rows.Any(r => r.Report is { } rep && rep.MultiplyAddsAfter >= rep.MultiplyAddsBefore);
                PrintNet(net, rows);
                PrintSensitivity(o, net, timings);
            }
            Console.WriteLine();
            Console.WriteLine($"load average after the runs: {LoadAverage()}; the benchmark took {clock.Elapsed.TotalSeconds:F0} s; files in {dir}");
            return o.Tool.Strict && noneRemoved ? 2 : 0;
        }

        private static List<RowResult> MeasureNet(Options o, string mopt, DigitsNet net, string runs, string? sensitivities)
        {
            var rows = new List<RowResult>();
            foreach (var setting in PruneSetting.For(net, o.Ratios, sensitivities, MaxLosses))
            {
                string stem = Path.Combine(runs, $"{net.Name}.{setting.Label.Replace(' ', '_')}");
                string output = stem + ".onnx";
                if (setting.PassOptions is null)
                {
                    RunTool(mopt, [net.ModelPath, .. Prepare, "-o", output], o.Tool.MoptEnv, "mopt-opt (unpruned)");
                    var (c, t) = Top1.Of(output, net);
                    rows.Add(new RowResult(setting, output, null, ParameterCount.Of(output), c, t, null, null));
                    continue;
                }
                string report = stem + ".report.json";
                string[] args = [net.ModelPath, .. Prepare, $"--prune-channels={setting.PassOptions}", $"--prune-report={report}", "--timing",
                    .. o.Tool.MoptArgs, "-o", output];
                var wall = new List<double>();
                var pass = new List<double>();
                for (int i = 0; i <= o.PruneRuns; i++)
                {
                    File.Delete(output);
                    File.Delete(report);
                    string stderr = "";
                    var sample = RunTool(mopt, args, o.Tool.MoptEnv, $"mopt-opt --prune-channels='{setting.PassOptions}'", err => { stderr = err; return false; });
                    if (i == 0) continue; // warm-up: the file cache
                    wall.Add(sample.Wall);
                    if (PassLine().Match(stderr) is { Success: true } m) pass.Add(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
                }
                var rep = PruneReport.Read(report);
                var (correct, total) = Top1.Of(output, net);
                rows.Add(new RowResult(setting, output, rep, ParameterCount.Of(output), correct, total, Median(wall), pass.Count > 0 ? Median(pass) : null));
            }

            var feeds = new Dictionary<string, NpyArray>(StringComparer.Ordinal) { ["image"] = net.Images[0] };
            foreach (var (level, ort) in OrtLevels)
            {
                var sessions = rows.Select(r => new TimedSession(r.Setting.Label, r.ModelPath, feeds, ort)).ToList();
                try
                {
                    int repeat = Latency.Measure(sessions, o.Warmup, o.Rounds, o.MinRunMs / 1e3);
                    if (repeat > 1) Console.WriteLine($"    latency ({level}): K = {repeat} inferences per timed run");
                    for (int i = 0; i < rows.Count; i++)
                        rows[i].Latency[level] = (sessions[i].MedianMs, sessions[i].MedianCpuMs, Latency.PairedRatio(sessions[i], sessions[0]));
                }
                finally
                {
                    foreach (var s in sessions) s.Dispose();
                }
            }
            return rows;
        }

        private static void PrintNet(DigitsNet net, List<RowResult> rows)
        {
            var baseRow = rows[0];
            long macsBefore = rows.Select(r => r.Report?.MultiplyAddsBefore).FirstOrDefault(x => x is not null) ?? 0;
            long paramsBefore = rows.Select(r => r.Report?.ParametersBefore).FirstOrDefault(x => x is not null) ?? baseRow.CountedParameters;
            var table = new List<string[]>();
            foreach (var r in rows)
            {
                long macs = r.Report?.MultiplyAddsAfter ?? macsBefore;
                long parameters = r.Report?.ParametersAfter ?? paramsBefore;
                string counted = r.CountedParameters == parameters ? "=" : $"{r.CountedParameters:N0} (!)";
                table.Add([
                    r.Setting.Label,
                    r.Report is { } rep ? $"{rep.LayersPruned} / {rep.Skipped.Count}" : "-",
                    $"{macs:N0}", macsBefore > 0 ? $"{100.0 * macs / macsBefore:F1}%" : "?",
                    $"{parameters:N0}", $"{100.0 * parameters / paramsBefore:F1}%", counted,
                    $"{100.0 * r.Correct / r.Total:F2}%", $"{100.0 * (r.Correct - baseRow.Correct) / r.Total:+0.00;-0.00;0.00}",
                    $"{r.Latency["default"].Ms:F4}", $"{r.Latency["default"].Ratio:F3}", $"{r.Latency["default"].CpuMs / baseRow.Latency["default"].CpuMs:F3}",
                    $"{r.Latency["off"].Ms:F4}", $"{r.Latency["off"].Ratio:F3}", $"{r.Latency["off"].CpuMs / baseRow.Latency["off"].CpuMs:F3}",
                    r.CommandSeconds is { } s ? $"{s:F3}" : "-", r.PassSeconds is { } p ? $"{p:F4}" : "-",
                ]);
            }
            TextTable.Print(["row", "convs pruned/skipped", "multiply-adds", "%", "parameters", "%", "counted", "top-1", "vs unpruned",
                "ORT default ms", "ratio", "cpu", "ORT off ms", "ratio", "cpu", "prune s", "pass s"], table);
            Console.WriteLine($"    top-1 is on {baseRow.Total} held-out digits, without fine-tuning; 'counted' = parameters counted in the written .onnx match the report;");
            Console.WriteLine("    'cpu' = median thread CPU time against the unpruned model's (on a busy machine the steadier ratio)");
            Console.WriteLine("    anchor (reference only): PaddleSlim MobileNetV1 -50% FLOPs, Paddle-Lite 66.05 -> 33.56 ms = ratio 0.508");
            if (rows.LastOrDefault(r => r.Report is not null)?.Report is { Skipped.Count: > 0 } last)
            {
                Console.WriteLine($"    skipped by --prune-channels (the convs the regex matched that this build cannot prune yet, with its reasons):");
                foreach (var s in last.Skipped) Console.WriteLine($"      {s}");
            }
        }

        /// <summary>The ratio=auto rows' loss budgets: relative top-1 loss per layer, as the sensitivity table measures it.</summary>
        private static readonly double[] MaxLosses = [0.01, 0.05];

        private static void PrintSensitivity(Options o, DigitsNet net, List<SensitivityTiming>? timings)
        {
            if (timings is null)
            {
                Console.WriteLine($"    sensitivity: not available in this build (no {Sensitivity.PassName} pass registered)");
                return;
            }
            Console.WriteLine($"    sensitivity: {timings[0].Command}");
            Console.WriteLine($"      on {net.Images.Count} held-out digits with labels, ratios {Sensitivity.Ratios}; median of {o.SensitivityRuns} run(s), the report deleted before each");
            foreach (var t in timings)
                Console.WriteLine($"      workers={t.Workers}: {t.Seconds:F2} s{(t.Measured.Points >= 0 ? $" ({t.Measured.Layers} layers, {t.Measured.Points} points)" : "")}" +
                                  (t.Workers != 1 ? $"   speed-up {timings[0].Seconds / t.Seconds:F2}x" : ""));
        }

        [GeneratedRegex(@"^\s*([0-9.]+) \(\s*[0-9.]+%\)\s+prune-channels\s*$", RegexOptions.Multiline)]
        private static partial Regex PassLine();
    }
}
