using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using Mopt.Backend.Runtime;
using Mopt.Bench;
using Mopt.Bench.Quantize;
using Mopt.Ir;
using static Mopt.Bench.BenchSupport;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
try
{
    return QuantizeBench.Run(Options.Parse(args));
}
catch (Exception e) when (e is BenchException or MirException)
{
    Console.Error.WriteLine($"quantize: error: {e.Message}");
    return 1;
}

namespace Mopt.Bench.Quantize
{
    public static partial class QuantizeBench
    {
        public static int Run(Options o)
        {
            string root = RepoRoot();
            string mopt = o.Tool.MoptPath(root);
            foreach (var tool in new[] { mopt, "/usr/bin/time" })
                if (!File.Exists(tool)) throw new BenchException($"'{tool}' not found (scripts/setup.sh builds the shipped mopt-opt)");
            string modelsDir = Path.GetFullPath(o.ModelsDir ?? Path.Combine(root, "..", "shared", "models", "onnx"));
            var methods = QuantMethods.All.Where(m => o.Methods.Contains(m.Name)).ToList();

            bool tempDir = o.Tool.Dir is null;
            string dir = o.Tool.Dir is { } d ? Directory.CreateDirectory(d).FullName : TempDir();
            try
            {
                Console.WriteLine($"quantize: mopt-opt's rounding and int8 quantization against the float model, in ONNX Runtime {OrtEnv.Instance().GetVersionString()}");
                Console.WriteLine($"mopt-opt: {mopt}");
                Console.WriteLine($"float:    mopt-opt IN --pipeline=deploy -o FLOAT   (batch-norms folded: the model a deployment would quantize)");
                foreach (var m in methods)
                    Console.WriteLine($"  {m.Name,-17} mopt-opt FLOAT {m.FlagText} --timing --pass-statistics{(o.Tool.MoptArgs.Count > 0 ? " " + string.Join(" ", o.Tool.MoptArgs) : "")} -o OUT");
                if (methods.Any(m => m.Name == QuantMethods.DefaultName))
                    Console.WriteLine($"  {"",-17} (digits_cnn's default row: mopt-opt MODEL --fold-bn {QuantMethods.All.First(m => m.Name == QuantMethods.DefaultName).FlagText}, " +
                                      "from the trained model itself: the exact command a user types)");
                Console.WriteLine("  calibrated methods also write --quant-report=FILE (error-samples=N): its per-layer SQNR is the per-layer table");
                Console.WriteLine($"inputs:   {o.Samples} calibration samples (seed {o.CalibrationSeed}) and {o.EvalSamples} evaluation samples (seed {o.EvalSeed}) of smooth random " +
                                  "images scaled as each model expects, plus the real test_data_set inputs beside a model");
                Console.WriteLine($"accuracy: float and quantized outputs in ONNX Runtime at ORT_ENABLE_ALL (QDQ -> integer kernels), 1 thread");
                Console.WriteLine($"latency:  the same settings; {o.Warmup} warm-up + {o.Rounds} timed rounds, each round running every model once, in rotating " +
                                  $"order; medians (a run of a model under {o.MinRunMs:G3} ms is K inferences back to back; times are per inference)");
                Console.WriteLine($"machine:  {Environment.ProcessorCount} CPUs, load average {LoadAverage()}; work folder {dir}");

                var models = Models.Resolve(o.Models, modelsDir, dir);
                if (models.Count == 0) throw new BenchException("no models to run");
                Console.WriteLine($"models:   {string.Join(", ", models.Select(m => m.Name))}");

                var results = new List<ModelResult>();
                var clock = Stopwatch.StartNew();
                foreach (var model in models)
                {
                    var r = RunModel(o, model, methods, mopt, dir);
                    results.Add(r);
                    Report.Model(r);
                    if (!o.Tool.Keep) DeleteOutputs(r);
                }
                Console.WriteLine($"load average after the runs: {LoadAverage()}; the benchmark took {clock.Elapsed.TotalSeconds:F0} s");
                bool allMet = Report.Summary(results);
                if (results.Any(r => r.Failure is not null || r.Methods.Any(m => m.Failure is not null))) return 1;
                return o.Tool.Strict && !allMet ? 2 : 0;
            }
            finally
            {
                if (tempDir && !o.Tool.Keep) Directory.Delete(dir, recursive: true);
                else Console.WriteLine($"files kept in {dir}");
            }
        }

        private static ModelResult RunModel(Options o, BenchModel model, List<QuantMethod> methods, string mopt, string dir)
        {
            var r = new ModelResult(model);
            Console.WriteLine();
            Console.WriteLine($"=== {model.Name}: {model.Description}");
            string stem = Path.Combine(dir, model.Name.Replace('/', '_'));
            try
            {
                r.FloatPath = stem + ".float.onnx";
                RunMopt(mopt, o, [model.Path, "--pipeline=deploy", "-o", r.FloatPath], "mopt-opt --pipeline=deploy");
                r.FloatSizes = FileSizes.Of(r.FloatPath);

                List<InputSpec> inputs;
                using (var probe = new OrtRunner(r.FloatPath, Evaluator.Deployed))
                    inputs = probe.Inputs.Select(i => new InputSpec(i.Name, i.Element, i.Shape)).ToList();

                string calibration = model.Labelled?.CalibrationDir ?? stem + ".calibration";
                if (model.Labelled is { } data)
                    r.CalibrationSamples = Directory.GetFiles(data.CalibrationDir, "*.npy").Length;
                else if (methods.Any(m => m.Calibrated))
                {
                    Inputs.WriteCalibrationFolder(calibration, Inputs.Generate(inputs, model.Style, o.Samples, o.CalibrationSeed));
                    r.CalibrationSamples = o.Samples;
                }
                var samples = model.Labelled?.Images.ToList() ?? Inputs.Generate(inputs, model.Style, o.EvalSamples, o.EvalSeed);
                if (model.Real)
                {
                    var real = Inputs.TestDataSets(model.Path, inputs);
                    r.RealSamples = real.Count;
                    samples.AddRange(real);
                }
                r.EvalSamples = samples.Count;
                var evaluator = new Evaluator(samples, realFrom: samples.Count - r.RealSamples, model.Labelled?.Labels);
                evaluator.RunReference(r.FloatPath);
                r.FloatLabels = evaluator.FloatLabels;
                r.Measures = evaluator.Measures;
                r.FloatOrtOps = OrtGraph.OpTypes(r.FloatPath);
                r.InitializersAsInputs = OrtGraph.InitializersAsInputs(r.FloatPath);

                foreach (var m in methods)
                {
                    var mr = new MethodResult(m) { Output = $"{stem}.{m.Name}.onnx" };
                    r.Methods.Add(mr);
                    try
                    {
                        // calibrated methods also write the report: its per-layer errors go in the benchmark's per-layer table
                        string? report = m.Calibrated ? $"{stem}.{m.Name}.report.json" : null;
                        string flag = report is null ? m.Flag(calibration) : $"{m.Flag(calibration)} error-samples={(model.Labelled is null ? o.LayerSamples : 32)}";
                        // The labelled model's default row is the issue's exact command, from the trained model itself.
                        bool exact = model.Labelled is not null && m.Name == QuantMethods.DefaultName;
                        var (sample, stderr) = RunMopt(mopt, o, [exact ? model.Path : r.FloatPath, .. exact ? new[] { "--fold-bn" } : [], flag, "--timing", "--pass-statistics",
                            .. report is null ? Array.Empty<string>() : [$"--quant-report={report}"], .. o.Tool.MoptArgs, "-o", mr.Output], $"mopt-opt {m.Name}");
                        if (report is not null) mr.Layers = LayerTable.Read(report);
                        mr.ProcessSeconds = sample.Wall;
                        mr.PassSeconds = PassTime(stderr, m.PassName);
                        mr.Notes.AddRange(Notes(stderr));
                        mr.Sizes = FileSizes.Of(mr.Output);
                        mr.Accuracy = evaluator.Compare(mr.Output);
                        mr.OrtOps = OrtGraph.OpTypes(mr.Output);
                        mr.InitializersAsInputs = OrtGraph.InitializersAsInputs(mr.Output);
                    }
                    catch (Exception e) when (e is BenchException or MirException or OnnxRuntimeException)
                    {
                        mr.Failure = e.Message;
                    }
                    Console.WriteLine($"  {m.Name}: {(mr.Failure is null ? $"done in {mr.ProcessSeconds:F2} s" : "FAILED")}");
                }

                Time(o, r, samples[0]);
            }
            catch (Exception e) when (e is BenchException or MirException or OnnxRuntimeException)
            {
                r.Failure = e.Message;
            }
            return r;
        }

        /// <summary>The latency of the float model and every quantized one, interleaved in the same rounds.</summary>
        private static void Time(Options o, ModelResult r, Dictionary<string, NpyArray> feeds)
        {
            var sessions = new List<TimedSession>();
            try
            {
                sessions.Add(new TimedSession("float", r.FloatPath!, feeds, GraphOptimizationLevel.ORT_ENABLE_ALL));
                var timed = new List<(MethodResult Method, TimedSession Session)>();
                foreach (var m in r.Methods.Where(m => m.Failure is null))
                {
                    try
                    {
                        var s = new TimedSession(m.Method.Name, m.Output!, feeds, GraphOptimizationLevel.ORT_ENABLE_ALL);
                        sessions.Add(s);
                        timed.Add((m, s));
                    }
                    catch (BenchException e) { m.Failure = e.Message; }
                }
                r.Repeat = Latency.Measure(sessions, o.Warmup, o.Rounds, o.MinRunMs / 1e3);
                r.FloatLatencyMs = sessions[0].MedianMs;
                foreach (var (m, s) in timed)
                {
                    m.LatencyMs = s.MedianMs;
                    m.LatencyRatio = s.MedianMs / sessions[0].MedianMs;
                    m.PairedLatencyRatio = Latency.PairedRatio(s, sessions[0]);
                    if (ThreadCpu.Available) m.CpuLatencyRatio = s.MedianCpuMs / sessions[0].MedianCpuMs;
                }
            }
            finally
            {
                foreach (var s in sessions) s.Dispose();
            }
        }

        /// <summary>Runs mopt-opt; a failure is a <see cref="BenchException"/> with mopt-opt's own error message.</summary>
        private static (Sample Sample, string Stderr) RunMopt(string mopt, Options o, IReadOnlyList<string> args, string what)
        {
            string stderr = "";
            try
            {
                var sample = RunTool(mopt, args, o.Tool.MoptEnv, what, err => { stderr = err; return false; });
                return (sample, stderr);
            }
            catch (BenchException e)
            {
                throw new BenchException(ErrorOf(e.Message));
            }
        }

        /// <summary>The lines of mopt-opt's stderr that say what went wrong (not its progress notes).</summary>
        private static string ErrorOf(string message)
        {
            var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var errors = lines.Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).ToList();
            return string.Join(" / ", errors.Count > 0 ? errors : lines.TakeLast(2));
        }

        /// <summary>The pass's wall seconds from mopt-opt's --timing report ("  0.0011 (  2.0%)  quantize-int8").</summary>
        private static double? PassTime(string stderr, string pass)
        {
            foreach (Match m in TimingLine().Matches(stderr))
                if (m.Groups[2].Value.Trim() == pass)
                    return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return null;
        }

        [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s+\(\s*[\d.]+%\)\s+(\S.*?)\s*$", RegexOptions.Multiline)]
        private static partial Regex TimingLine();

        /// <summary>
        /// What mopt-opt said besides the timing report: the pass statistics and its notes (e.g. an opset upgrade), without
        /// the report frames and the calibration progress lines.
        /// </summary>
        private static IEnumerable<string> Notes(string stderr)
        {
            foreach (var raw in stderr.Split('\n'))
            {
                string line = raw.Trim().Trim('\r');
                if (line.Length == 0 || line.StartsWith("===", StringComparison.Ordinal) || line.StartsWith("...", StringComparison.Ordinal) ||
                    line.StartsWith("Total Execution Time", StringComparison.Ordinal) || line.StartsWith("----", StringComparison.Ordinal) ||
                    TimingLine().IsMatch(raw) || ProgressLine().IsMatch(line))
                    continue;
                yield return line;
            }
        }

        [GeneratedRegex(@"\d+/\d+ samples")]
        private static partial Regex ProgressLine();

        private static void DeleteOutputs(ModelResult r)
        {
            foreach (var m in r.Methods) if (m.Output is { } p) File.Delete(p);
        }
    }
}
