using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.RegularExpressions;
using Mopt.Dialects.Onnx;
using Mopt.Ir;
using Mopt.Passes.Quantization;

namespace Mopt.Passes.Pruning;

/// <summary>
/// <c>--prune-sensitivity='data=DIR labels=FILE ratios=0.1,0.2,0.3 report=sens.json chart=sens.svg'</c>: how much each
/// Conv layer's accuracy suffers when pruned alone, as PaddleSlim's <c>sensitivity()</c> measures it. The module is
/// left as it is (an analysis). For each Conv weight name matching <c>params</c> (in full; default: every group-1
/// Conv with a named constant weight) and each ratio, a copy of the module is pruned by the pass
/// <c>prune-channels{params=NAME ratio=R criterion=C}</c> and run in ONNX Runtime on the samples:
/// <code>
/// metric = top-1 accuracy against labels=FILE, or without labels top-1 agreement with the unpruned model
/// loss   = (baseline - pruned) / baseline
/// </code>
/// The argmax is taken over the main function's first output, per row (axis 0) when its other dimensions are static.
/// The table (JSON, or CSV by the extension) is written after every layer, so an interrupted run keeps what it
/// measured, and a run whose report file exists measures only the (layer, ratio) points the file lacks. Layers are
/// measured in parallel (<c>workers=N</c>, one single-threaded ONNX Runtime session per model): every ratio of one
/// layer runs together on each sample. A layer prune-channels skips is recorded with its reason, and a ratio at which
/// it removes no channel as such: neither is a loss of 0.
/// </summary>
public sealed class PruneSensitivity : Pass
{
    private const string DefaultRatios = "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9";

    private readonly PassOption<string> _data = new("data", "the samples: a folder of .npy files, as calibration folders, or random:N", "");
    private readonly PassOption<string> _labels = new("labels", "the samples' labels (.npy of integers, or .txt with one per line); without: agreement with the unpruned model", "");
    private readonly PassOption<string> _ratios = new("ratios", "the pruning ratios to measure, comma-separated, each in (0, 1)", DefaultRatios);
    private readonly PassOption<string> _params = new("params", "regular expression over Conv weight names (in full); default: every group-1 Conv", "");
    private readonly PassOption<string> _criterion = new("criterion", "how prune-channels ranks channels (l1_norm, geometry_median, bn_scale)", "l1_norm");
    private readonly PassOption<int> _workers = new("workers", "layers measured at once (0: one per core)", 0, valid: w => w >= 0, allowed: "a count of workers (0: one per core)");
    private readonly PassOption<string> _report = new("report", "the table, .json or .csv; an existing one is resumed", "");
    private readonly PassOption<string> _chart = new("chart", "a chart of loss by ratio, a line per layer, .svg or .png", "");

    public override string Name => "prune-sensitivity";
    public override string Summary => "Measure each Conv layer's accuracy loss when pruned alone at each ratio, in ONNX Runtime (PaddleSlim's sensitivity analysis; the module is unchanged)";
    public override IReadOnlyList<PassOption> Options => [_data, _labels, _ratios, _params, _criterion, _workers, _report, _chart];

    /// <summary>What the run needs, fixed before the workers start.</summary>
    private sealed record Setup(MirModule Module, IModelRunner Runner, CalibrationSource Source, string Criterion, long ChannelsBefore,
        Reference Reference, long BaselineCorrect, DialectRegistry Dialects);

    /// <summary>What a pruned model's argmax is compared with: per prediction the label (or the unpruned model's argmax), and where each sample's rows start.</summary>
    private sealed record Reference(long[] Expected, int[] SampleStart, int SampleCount);

    public override void Run(MirModule module, PassContext context)
    {
        // Without data there is nothing to measure: the pass runs with its defaults as every pass must (a no-op).
        context.MarkAllPreserved();
        if (_data.Value.Length == 0)
        {
            context.Log("no data=DIR given: nothing to measure");
            return;
        }
        var ratios = ParseRatios(_ratios.Value);
        var regex = _params.Value.Length == 0 ? null : ConvWeights.Params(Name, _params.Value);
        CheckCriterion(_criterion.Value);
        int workers = _workers.Value == 0 ? Environment.ProcessorCount : _workers.Value;
        string? reportFormat = _report.Value.Length > 0 ? SensitivityTableFile.FormatOf(_report.Value) : null;
        if (reportFormat is not null) CheckFolder(_report.Value, "table");
        string? chartFormat = _chart.Value.Length > 0 ? ChartFormat(_chart.Value, context.Services) : null;

        CalibrationSource source;
        try { source = CalibrationSource.Parse(_data.Value); }
        catch (FormatException e) { throw new PipelineException($"pass 'prune-sensitivity': data={_data.Value}: {e.Message}"); }
        if (source is CalibrationSource.Folder folder && !Directory.Exists(folder.Path))
            throw new MirException($"prune-sensitivity: data folder '{folder.Path}' does not exist");
        var runner = (context.Services.ModelRunner ?? throw new MirException("prune-sensitivity: measuring needs ONNX Runtime, which is not available here")).WithThreads(1);

        var layers = Layers(module, regex, _params.Value);
        var labels = _labels.Value.Length > 0 ? SampleLabels.Read(_labels.Value, context.Services) : null;
        var output = OutputOf(module);

        // The unpruned model once: the baseline, and what each pruned model's predictions are compared with.
        var (predictions, sampleStart, samples) = Predict(runner, source, module, output, context);
        if (labels is not null && labels.Length != predictions.Length)
            throw new MirException($"prune-sensitivity: labels '{_labels.Value}' has {labels.Length} labels but data={_data.Value} has {predictions.Length} samples" +
                                   (samples != predictions.Length ? $" ({samples} runs of the model, {predictions.Length} rows of its output)" : ""));
        string metric = labels is null ? SensitivityTable.Agreement : SensitivityTable.Top1;
        long baselineCorrect = labels is null ? predictions.Length : predictions.Zip(labels).Count(p => p.First == p.Second);
        double baseline = (double)baselineCorrect / predictions.Length;
        if (baselineCorrect == 0)
            throw new MirException($"prune-sensitivity: the unpruned model gets no sample of data={_data.Value} right against labels '{_labels.Value}': a loss relative to it means nothing; check the labels");

        var fresh = new SensitivityTable(metric, baseline, predictions.Length, _criterion.Value);
        var table = reportFormat is not null && File.Exists(_report.Value) ? Resume(_report.Value, fresh) : fresh;
        int reused = 0;
        var work = new List<(string Layer, List<double> Ratios)>();
        foreach (var layer in layers)
        {
            table.AddLayer(layer);
            var missing = ratios.Where(r => !table.Has(layer, r)).ToList();
            reused += ratios.Count - missing.Count;
            if (missing.Count > 0) work.Add((layer, missing));
        }
        // Every counter now, in one order: the workers would otherwise add them in whatever order they finish.
        foreach (var counter in new[] { "points measured", "points reused", "points unpruned", "layers skipped" }) context.Count(counter, 0);
        context.Count("points reused", reused);
        context.Log($"{work.Sum(w => w.Ratios.Count)} points to measure on {work.Count} layers, {reused} reused from {_report.Value}");

        var setup = new Setup(module, runner, source, _criterion.Value, OutputChannels(module), new Reference(labels ?? predictions, sampleStart, samples), baselineCorrect, context.Dialects);
        Measure(setup, work, workers, table, reportFormat, context);

        if (reportFormat is not null) WriteTable(table, reportFormat);
        context.Note(Describe(table, layers, ratios));
        if (chartFormat is not null)
        {
            var chart = Chart(table, layers);
            var writer = context.Services.ChartWriter!;
            context.WriteFile(_chart.Value, stream => writer.Write(chart, chartFormat, stream), "prune-sensitivity chart");
        }
    }

    // ------------------------------------------------------------------ options

    private static List<double> ParseRatios(string text)
    {
        var ratios = new SortedSet<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) || !(r > 0 && r < 1))
                throw new PipelineException($"pass 'prune-sensitivity': ratios={text}: '{part}' is not a ratio in (0, 1)");
            ratios.Add(SensitivityTable.Key(r));
        }
        if (ratios.Count == 0) throw new PipelineException($"pass 'prune-sensitivity': ratios='{text}' gives no ratio");
        return ratios.ToList();
    }

    /// <summary>prune-channels is the judge of its own criteria: asked now, so a typo fails before any work.</summary>
    private static void CheckCriterion(string criterion)
    {
        try { PruneChannelsFor("", 0.5, criterion); }
        catch (PipelineException e) { throw new PipelineException($"pass 'prune-sensitivity': criterion={criterion}: {e.Message}"); }
    }

    private static Pass PruneChannelsFor(string weightName, double ratio, string criterion)
    {
        var pass = PassRegistry.Create("prune-channels");
        pass.SetOptionsFromPairs([("params", Regex.Escape(weightName)), ("ratio", SensitivityTable.KeyText(ratio)), ("criterion", criterion)]);
        return pass;
    }

    private static void CheckFolder(string path, string what)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) throw new MirException($"prune-sensitivity: cannot write the {what} '{path}': folder '{dir}' does not exist");
    }

    private static string ChartFormat(string path, PassServices services)
    {
        var writer = services.ChartWriter ?? throw new MirException($"prune-sensitivity: chart={path}: no chart writer is available here");
        var format = Path.GetExtension(path).TrimStart('.').ToLowerInvariant();
        if (!writer.Formats.Contains(format))
            throw new PipelineException($"pass 'prune-sensitivity': chart={path}: charts are drawn as {string.Join(" or ", writer.Formats.Select(f => "." + f))}, not '.{format}'");
        CheckFolder(path, "chart");
        try { writer.CheckAvailable(); }
        catch (MirException e) { throw new MirException($"prune-sensitivity: chart={path}: {e.Message}"); }
        return format;
    }

    // ------------------------------------------------------------------ the model

    /// <summary>The Conv weight names to measure, in model order: those matching params, or every group-1 Conv's.</summary>
    private static List<string> Layers(MirModule module, Regex? regex, string pattern)
    {
        var convs = module.AllOperations().Where(o => o.Name == "onnx.Conv").ToList();
        var names = new List<string>();
        foreach (var conv in convs)
        {
            if (ConvWeights.NameOf(conv) is not { } name || names.Contains(name)) continue;
            if (regex is null ? (conv.ReadInt("group") ?? 1) == 1 : regex.IsMatch(name)) names.Add(name);
        }
        if (names.Count > 0) return names;
        var all = convs.Select(ConvWeights.NameOf).OfType<string>().Distinct().ToList();
        if (regex is null && all.Count > 0) throw new PipelineException("pass 'prune-sensitivity': the model has no group-1 Conv to measure");
        throw ConvWeights.NoMatch("prune-sensitivity", pattern, all);
    }

    /// <summary>Every Conv's output channels added up: what a prune-channels run lowers when it removes anything.</summary>
    private static long OutputChannels(MirModule module) =>
        module.AllOperations().Where(o => o.Name == "onnx.Conv" && o.OperandCount > 1)
            .Sum(o => o.GetOperand(1).Type is TensorType { IsRanked: true, Rank: > 0 } t ? t.Shape![0] : 0);

    /// <summary>The value whose argmax is the prediction: the main function's first output, a float tensor.</summary>
    private static Value OutputOf(MirModule module)
    {
        var ret = module.MainFunction.Return;
        if (ret is null || ret.OperandCount == 0) throw new MirException("prune-sensitivity: the model has no output to take the argmax of");
        var output = ret.GetOperand(0);
        if (output.Type is not TensorType { Element.IsFloat: true })
            throw new MirException($"prune-sensitivity: the model's first output is {output.Type}, not a float tensor of scores to take the argmax of");
        return output;
    }

    /// <summary>How many scores one prediction has: the output's size past axis 0 when static (rows of a batch), else all of it.</summary>
    private static int ClassesOf(Value output, int length)
    {
        if (output.Type is TensorType { IsRanked: true, Rank: >= 2 } t && t.Shape!.Skip(1).All(d => d >= 0))
        {
            long classes = t.Shape!.Skip(1).Aggregate(1L, (a, b) => a * b);
            if (classes > 0 && length % classes == 0) return (int)classes;
        }
        return Math.Max(length, 1);
    }

    /// <summary>Each row's argmax (the first of equal maxima).</summary>
    private static void Argmax(float[] scores, int classes, List<long> into)
    {
        for (int start = 0; start + classes <= scores.Length; start += classes)
        {
            int best = 0;
            for (int c = 1; c < classes; c++)
                if (scores[start + c] > scores[start + best]) best = c;
            into.Add(best);
        }
    }

    /// <summary>The unpruned model's predictions over the samples, where each sample's rows start, and how many samples ran.</summary>
    private static (long[] Predictions, int[] SampleStart, int Samples) Predict(IModelRunner runner, CalibrationSource source, MirModule module, Value output, PassContext context)
    {
        var predictions = new List<long>();
        var starts = new List<int>();
        var progress = new CalibrationProgress(context.Notes, context.NotesIsTerminal, "prune-sensitivity: baseline");
        int samples = runner.Run([new ProbedModel(module, [output])], source, (_, values) =>
        {
            starts.Add(predictions.Count);
            Argmax(values[0][0], ClassesOf(output, values[0][0].Length), predictions);
        }, progress.Report);
        progress.Finish();
        if (samples == 0) throw new MirException("prune-sensitivity: the data gave no samples");
        return (predictions.ToArray(), starts.ToArray(), samples);
    }

    // ------------------------------------------------------------------ measuring

    /// <summary>What one layer gave: its points, or why prune-channels skips it.</summary>
    private sealed record LayerResult(string Layer, List<SensitivityPoint> Points, string? Skipped);

    private void Measure(Setup setup, List<(string Layer, List<double> Ratios)> work, int workers, SensitivityTable table, string? reportFormat, PassContext context)
    {
        if (work.Count == 0) return;
        var gate = new object();
        int done = 0, total = work.Count * setup.Reference.SampleCount;
        var progress = new CalibrationProgress(context.Notes, context.NotesIsTerminal, "prune-sensitivity: measuring");
        void Advance(int by) { lock (gate) { done += by; progress.Report(done, total); } }

        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, workers) };
        try
        {
            Parallel.ForEach(work, options, item =>
            {
                var result = MeasureLayer(setup, item.Layer, item.Ratios, gate, Advance);
                lock (gate)
                {
                    if (result.Skipped is { } reason)
                    {
                        table.Skip(result.Layer, reason);
                        context.Count("layers skipped");
                    }
                    foreach (var p in result.Points)
                    {
                        table.Set(result.Layer, p);
                        context.Count(p.Unpruned ? "points unpruned" : "points measured");
                    }
                    // After every layer, so an interrupted run keeps what it measured.
                    if (reportFormat is not null) WriteTable(table, reportFormat);
                }
            });
        }
        catch (AggregateException e)
        {
            progress.Finish();
            var first = e.Flatten().InnerExceptions.FirstOrDefault(x => x is MirException or PipelineException) ?? e.Flatten().InnerExceptions[0];
            ExceptionDispatchInfo.Capture(first).Throw();
        }
        progress.Finish();
    }

    private static LayerResult MeasureLayer(Setup setup, string layer, List<double> ratios, object gate, Action<int> advance)
    {
        var points = new List<SensitivityPoint>();
        var pruned = new List<(double Ratio, MirModule Module, Value Output)>();
        foreach (var ratio in ratios)
        {
            var map = new Dictionary<Value, Value>();
            MirModule copy;
            lock (gate) copy = setup.Module.Clone(map);
            var pm = new PassManager { Dialects = setup.Dialects };
            pm.Passes.Add(PruneChannelsFor(layer, ratio, setup.Criterion));
            List<PassRun> runs;
            try { runs = pm.Run(copy); }
            catch (MirException e)
            {
                advance(setup.Reference.SampleCount);
                return new LayerResult(layer, points, $"prune-channels failed: {e.Message}");
            }
            if (OutputChannels(copy) < setup.ChannelsBefore) pruned.Add((ratio, copy, OutputOf(copy)));
            else if (runs[0].Context.Skips.Count > 0)
            {
                // A structural skip: the same at every ratio.
                advance(setup.Reference.SampleCount);
                return new LayerResult(layer, [], string.Join("; ", runs[0].Context.Skips));
            }
            else points.Add(new SensitivityPoint(ratio, null, null));
        }
        if (pruned.Count == 0)
        {
            advance(setup.Reference.SampleCount);
            return new LayerResult(layer, points, null);
        }

        var reference = setup.Reference;
        var correct = new long[pruned.Count];
        var rows = new List<long>();
        try
        {
            setup.Runner.Run(pruned.Select(p => new ProbedModel(p.Module, [p.Output])).ToList(), setup.Source, (sample, values) =>
            {
                int start = reference.SampleStart[sample];
                for (int m = 0; m < pruned.Count; m++)
                {
                    rows.Clear();
                    Argmax(values[m][0], ClassesOf(pruned[m].Output, values[m][0].Length), rows);
                    int expected = (sample + 1 < reference.SampleStart.Length ? reference.SampleStart[sample + 1] : reference.Expected.Length) - start;
                    if (rows.Count != expected)
                        throw new MirException($"prune-sensitivity: {layer} pruned at {SensitivityTable.KeyText(pruned[m].Ratio)} gives {rows.Count} predictions on sample {sample + 1}, the unpruned model {expected}");
                    for (int r = 0; r < rows.Count; r++)
                        if (rows[r] == reference.Expected[start + r]) correct[m]++;
                }
            }, (_, _) => advance(1));
        }
        catch (MirException e) when (e.Message.StartsWith("ONNX Runtime", StringComparison.Ordinal))
        {
            return new LayerResult(layer, points, $"the pruned model does not run: {e.Message}");
        }
        return new LayerResult(layer, [.. points, .. pruned.Select((p, m) => Point(p.Ratio, correct[m], reference.Expected.Length, setup))], null);
    }

    /// <summary>(baseline - pruned) / baseline from the counts, (b - c) / b: the same number without the rounding of the two divisions.</summary>
    private static SensitivityPoint Point(double ratio, long correct, int total, Setup setup) =>
        new(ratio, (double)(setup.BaselineCorrect - correct) / setup.BaselineCorrect, (double)correct / total);

    // ------------------------------------------------------------------ the table

    private SensitivityTable Resume(string path, SensitivityTable fresh)
    {
        var old = SensitivityTableFile.Read(path);
        var differences = new List<string>();
        if (old.Metric != fresh.Metric) differences.Add($"metric {old.Metric}, not {fresh.Metric}");
        if (old.Criterion != fresh.Criterion) differences.Add($"criterion {old.Criterion}, not {fresh.Criterion}");
        if (old.Samples != fresh.Samples) differences.Add($"{old.Samples} samples, not {fresh.Samples}");
        else if (differences.Count == 0 && Math.Abs(old.Baseline - fresh.Baseline) > 1e-12) differences.Add($"baseline {Number(old.Baseline)}, not {Number(fresh.Baseline)} (another model or other data)");
        if (differences.Count > 0)
            throw new MirException($"prune-sensitivity: report {path} was measured with {string.Join(", ", differences)}: it cannot be resumed; delete it or give another report=FILE to start over");
        return old;
    }

    private void WriteTable(SensitivityTable table, string format) =>
        AtomicFile.Write(_report.Value, stream => SensitivityTableFile.Write(table, format, stream));

    private static string Number(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    private string Describe(SensitivityTable table, List<string> layers, List<double> ratios)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"prune-sensitivity: baseline {table.Metric} {Number(table.Baseline)} on {table.Samples} samples, criterion {table.Criterion}; " +
                      $"loss = (baseline - pruned) / baseline{(_report.Value.Length > 0 ? $"; table in {_report.Value}" : "")}");
        int width = Math.Max(5, layers.Max(l => l.Length));
        sb.AppendLine($"  {"layer".PadRight(width)}  " + string.Join("  ", ratios.Select(r => SensitivityTable.KeyText(r).PadLeft(8))));
        var skipped = table.Skipped.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            if (skipped.TryGetValue(layer, out var reason)) { sb.AppendLine($"  {layer.PadRight(width)}  skipped: {reason}"); continue; }
            sb.AppendLine($"  {layer.PadRight(width)}  " + string.Join("  ", ratios.Select(r => (table.Get(layer, r) switch
            {
                null => "-",
                { Loss: { } loss } => loss.ToString("0.0000", CultureInfo.InvariantCulture),
                _ => "none",
            }).PadLeft(8))));
        }
        sb.Append("  (none: prune-channels removes no channel at that ratio; mopt does not train: fine-tuning usually recovers part of a loss)");
        return sb.ToString();
    }

    private LineChart Chart(SensitivityTable table, List<string> layers)
    {
        var series = new List<LineSeries>();
        foreach (var layer in table.Layers.Where(l => layers.Contains(l)))
        {
            var measured = table.Points(layer).Where(p => !p.Unpruned).ToList();
            if (measured.Count > 0) series.Add(new LineSeries(layer, measured.Select(p => p.Ratio).ToList(), measured.Select(p => p.Loss!.Value).ToList()));
        }
        var what = table.Metric == SensitivityTable.Top1 ? "top-1 accuracy" : "top-1 agreement";
        return new LineChart($"Pruning sensitivity ({table.Criterion}, {table.Samples} samples)", "pruning ratio",
            $"loss of {what}: (baseline - pruned) / baseline", series);
    }
}
