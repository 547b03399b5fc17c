using System.Text.RegularExpressions;
using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>
/// <c>--quantize-int8</c>: int8 inference, the way ONNX Runtime's quantizer does it.
/// <list type="bullet">
/// <item>No <c>calibration</c>: dynamic quantization (<see cref="DynamicQuantization"/>): int8 weights, activations
/// quantized at run time by DynamicQuantizeLinear feeding ConvInteger / MatMulInteger. Needs opset 11.</item>
/// <item><c>calibration=DIR</c> or <c>random:N</c>: static int8 in QDQ form (<see cref="QdqInsertion"/>): the model
/// runs once over the samples in ONNX Runtime, each activation's range is chosen by <c>method</c> (minmax,
/// percentile, entropy, mse: <see cref="TensorStatistics"/>; auto, the default: per tensor the candidate that disturbs
/// its readers least, <see cref="RangeSelection"/>), and QuantizeLinear/DequantizeLinear pairs go around the
/// chosen ops. Per-channel weights need opset 13 (the module is upgraded; if it cannot be, weights are per tensor).</item>
/// </list>
/// Chosen ops: those of the main function whose type is in <c>ops</c> and whose name or type the <c>exclude</c> regex
/// does not match. A Conv or Gemm whose weight is not constant is an error unless excluded. With <c>report=FILE.json</c>
/// (or mopt-opt's <c>--quant-report</c>) the ranges, scales and zero points, and each layer's error (float vs int8
/// output on the calibration samples), go to the file and a table to stderr. A model that lists its weights as graph
/// inputs (<c>onnx.initializers_as_inputs</c>) stops doing so: ONNX Runtime only fuses QDQ around constant weights.
/// </summary>
public sealed class QuantizeInt8 : Pass
{
    /// <summary>The op types the pass knows how to quantize.</summary>
    public static readonly string[] KnownOps = ["Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Mul", "MaxPool", "AveragePool", "GlobalAveragePool", "Concat"];
    private const string DefaultOps = "Conv,ConvTranspose,Gemm,MatMul,Add,MaxPool,AveragePool,GlobalAveragePool,Concat";

    private readonly PassOption<string> _calibration = new("calibration",
        "a folder of .npy samples (one sample or batch per file), or random:N; none: dynamic quantization", "");
    private readonly PassOption<string> _method = new("method",
        "how an activation's range is chosen: minmax, percentile, entropy, mse, or auto (per tensor, the one of those that disturbs the layers reading it least)",
        "auto", valid: m => m == "auto" || ParseMethod(m) is not null);
    private readonly PassOption<double> _percentile = new("percentile", "the percentile of |x| kept by method=percentile", 99.99,
        valid: p => p is > 0 and <= 100);
    private readonly PassOption<bool> _perChannel = new("per-channel", "one weight scale per output channel (else per tensor)", true);
    private readonly PassOption<bool> _symmetricActivations = new("symmetric-activations",
        "int8 symmetric activations (else uint8 asymmetric, as ONNX Runtime's default)", false);
    private readonly PassOption<string> _exclude = new("exclude", "ops whose name or op type this regex matches stay float", "",
        valid: r => TryRegex(r) is not null);
    private readonly PassOption<string> _ops = new("ops", $"the op types to quantize, comma-separated, of {string.Join(",", KnownOps)}", DefaultOps,
        valid: list => SplitOps(list).All(o => KnownOps.Contains(o, StringComparer.Ordinal)) && SplitOps(list).Length > 0);
    private readonly PassOption<string> _conv = new("conv",
        "without calibration, how a Conv is quantized: weight-only (int8 weight times its scale, which ONNX Runtime folds at load: float speed), " +
        "dequantize-linear (the same through a DequantizeLinear, which ONNX Runtime runs at every inference) or integer (ConvInteger)",
        "weight-only", valid: v => ParseConvForm(v) is not null);
    private readonly PassOption<string> _table = new("table",
        "write the calibrated ranges here: TensorRT's calibration cache, or ncnn's int8 scale table for a .table file (needs calibration data)", "");
    private readonly PassOption<string> _report = new("report", "write the quantization report (JSON) here and a table to stderr", "");
    private readonly PassOption<int> _errorSamples = new("error-samples", "calibration samples the report's per-layer errors are measured on", 32,
        valid: n => n >= 1);
    private readonly PassOption<int> _autoSamples = new("auto-samples", "calibration samples method=auto measures its candidate ranges on", 64,
        valid: n => n >= 1);
    private readonly PassOption<double> _autoMargin = new("auto-margin",
        "method=auto takes the widest candidate range whose error is at most (1 + margin) times the least: clipping must pay clearly", RangeSelection.DefaultMargin,
        valid: m => m is >= 0 and <= 10);
    private readonly PassOption<bool> _histograms = new("histograms", "put each activation's calibration histogram in the report (to compare with other calibrators)", false);

    public override string Name => "quantize-int8";
    public override string Summary => "Quantize to int8: dynamic (no calibration data) or static QDQ calibrated in ONNX Runtime (calibration=DIR|random:N)";
    public override IReadOnlyList<PassOption> Options =>
        [_calibration, _method, _percentile, _perChannel, _symmetricActivations, _exclude, _ops, _conv, _table, _report, _errorSamples, _autoSamples, _autoMargin, _histograms];

    /// <summary>Sets where the report goes (mopt-opt's <c>--quant-report=FILE.json</c>).</summary>
    public void SetReport(string path) => _report.Parse(path);

    /// <summary>Sets where the calibration table goes (mopt-opt's <c>--calibration-table=FILE</c>).</summary>
    public void SetTable(string path) => _table.Parse(path);

    public override void Run(MirModule module, PassContext context)
    {
        var chosen = ChooseOps(module, context);
        // Weights listed as graph inputs can be overridden at run time, so ONNX Runtime would not fuse the int8 kernels.
        if (chosen.Count > 0 && module.Op.RemoveAttr("onnx.initializers_as_inputs"))
            context.Note("quantize-int8: the model listed its weights as graph inputs (IR version 3 style); they are now plain initializers, " +
                         "which ONNX Runtime treats as constants");
        // A BatchNormalization between a Conv and its readers keeps the int8 kernels from fusing and stays float itself.
        int batchNorms = chosen.Count == 0 ? 0 : chosen[0].Parent!.Operations.Count(BatchNormalizationOp.Is);
        if (batchNorms > 0)
            context.Note($"quantize-int8: {batchNorms} BatchNormalization op(s) stay float; run --fold-bn (or --pipeline=deploy) first " +
                         "to fold them into the layers before them");
        if (_calibration.Value.Length == 0 && _table.Value.Length > 0)
            throw new MirException($"quantize-int8: a calibration table ('{_table.Value}') holds calibrated activation ranges: give calibration=DIR");
        if (_calibration.Value.Length == 0) RunDynamic(module, context, chosen);
        else
        {
            // Static QDQ has no ConvTranspose form here: its weight becomes int8 all the same (weight-only, float compute).
            var transposes = chosen.Where(op => op.OpType == "ConvTranspose").ToList();
            RunStatic(module, context, chosen.Except(transposes).ToList());
            if (transposes.Count > 0)
            {
                int n = new DynamicQuantization(module, context, _perChannel.Value, DynamicQuantization.ConvForm.WeightOnly).Run(transposes);
                context.Note($"quantize-int8: {n} of {transposes.Count} ConvTranspose ops weight-only int8 (int8 weight times its scale, " +
                             "folded by ONNX Runtime at load: float compute; static QDQ has no ConvTranspose form here)");
            }
        }
    }

    // ------------------------------------------------------------------ dynamic

    private void RunDynamic(MirModule module, PassContext context, List<Operation> chosen)
    {
        context.Note("quantize-int8: no calibration data: int8 weights, in the form ONNX Runtime runs fastest for each op; " +
                     "give calibration=DIR for int8 compute throughout (QLinearConv, QGemm)");
        chosen = chosen.Where(op => op.OpType is "Conv" or "ConvTranspose" or "MatMul" or "Gemm").ToList();
        if (chosen.Count == 0)
        {
            context.Note("quantize-int8: nothing to quantize: the model has no Conv, ConvTranspose, Gemm or MatMul (of the ops chosen); it is written unchanged");
            return;
        }
        RequireOpset(module, context, 11, "DynamicQuantizeLinear");
        var form = ParseConvForm(_conv.Value)!.Value;
        // A per-channel DequantizeLinear (its axis) needs opset 13; the other forms do not.
        if (form == DynamicQuantization.ConvForm.DequantizeLinear && _perChannel.Value && chosen.Any(op => op.OpType == "Conv")
            && !RaiseToOpset13(module, context, "per-channel DequantizeLinears", "conv=weight-only instead"))
            form = DynamicQuantization.ConvForm.WeightOnly;
        var rewrite = new DynamicQuantization(module, context, _perChannel.Value, form);
        int done = rewrite.Run(chosen);
        string channels = _perChannel.Value ? "per-channel" : "per-tensor";
        string convCost = form switch
        {
            DynamicQuantization.ConvForm.WeightOnly => "int8 weight times its scale, folded by ONNX Runtime at load: float speed",
            DynamicQuantization.ConvForm.DequantizeLinear => "DequantizeLinear before a float Conv, run by ONNX Runtime at every inference",
            _ => "ConvTransposes only, as int8 weight times its scale: the Convs run ConvInteger",
        };
        context.Note($"quantize-int8: {done} of {chosen.Count} Conv/ConvTranspose/MatMul/Gemm ops quantized ({channels} int8 weights): " +
                     $"{rewrite.WeightOnly} weight-only ({convCost}), {done - rewrite.WeightOnly} dynamic integer " +
                     $"(activations quantized at run time: MatMulInteger{(form == DynamicQuantization.ConvForm.Integer ? ", ConvInteger" : "")})");
        if (form == DynamicQuantization.ConvForm.Integer && chosen.Any(op => op.OpType == "Conv" && op.Parent is null))
            context.Note("quantize-int8: note: ONNX Runtime's ConvInteger is slower than its float Conv on CPU; conv=weight-only keeps float speed, calibration gives QLinearConv");
        if (_report.Value.Length > 0)
        {
            var report = new QuantizationReport { Mode = "dynamic" };
            report.Tensors.AddRange(rewrite.Weights);
            Finish(report, context);
        }
    }

    /// <summary>
    /// True when the module is at opset 13 or has been raised to it (said in a note), as <paramref name="what"/> needs;
    /// else a note says why not and what happens <paramref name="instead"/>.
    /// </summary>
    private static bool RaiseToOpset13(MirModule module, PassContext context, string what, string instead)
    {
        int from = OpsetUpgrade.CurrentOpset(module);
        if (from >= 13) return true;
        if (OpsetUpgrade.TryUpgrade(module, 13, context, out var why))
        {
            context.Note($"quantize-int8: the model was raised from opset {from} to 13 for {what}");
            return true;
        }
        context.Note($"quantize-int8: {what} need opset 13 and the model cannot be raised to it ({why}): {instead}");
        return false;
    }

    /// <summary>Which operand of a Conv, Gemm or MatMul is its weight (its definition's <see cref="IWeightLayout"/>; B when it has none).</summary>
    private static int WeightIndex(PassContext context, Operation op) =>
        context.Dialects.Interface<IWeightLayout>(op)?.WeightAxesOf(op)?.WeightOperand ?? 1;

    private static DynamicQuantization.ConvForm? ParseConvForm(string value) => value switch
    {
        "weight-only" => DynamicQuantization.ConvForm.WeightOnly,
        "dequantize-linear" => DynamicQuantization.ConvForm.DequantizeLinear,
        "integer" => DynamicQuantization.ConvForm.Integer,
        _ => null,
    };

    // ------------------------------------------------------------------ static

    private void RunStatic(MirModule module, PassContext context, List<Operation> chosen)
    {
        CalibrationSource source;
        try { source = CalibrationSource.Parse(_calibration.Value); }
        catch (FormatException e) { throw new MirException($"quantize-int8: calibration={_calibration.Value}: {e.Message}"); }
        if (source is CalibrationSource.Random random)
            context.Note($"quantize-int8: warning: calibrating on {random.Count} random inputs: accuracy is not meaningful " +
                         "(a smoke test; give calibration=DIR with real samples)");
        else if (source is CalibrationSource.Folder folder && !Directory.Exists(folder.Path))
            throw new MirException($"quantize-int8: calibration folder '{folder.Path}' does not exist");
        var runner = context.Services.ModelRunner ?? throw new MirException("quantize-int8: static quantization needs ONNX Runtime, which is not available here");

        bool perChannel = _perChannel.Value && RaiseToOpset13(module, context, "per-channel weights", "weights are quantized per tensor");
        RequireOpset(module, context, 10, "QuantizeLinear");

        bool auto = _method.Value == "auto";
        // auto keeps the histogram (as every method but min-max does) and asks it for every method's range.
        var method = auto ? CalibrationMethod.Mse : ParseMethod(_method.Value)!.Value;
        var settings = new QdqInsertion.Settings(perChannel, _symmetricActivations.Value, MethodName());
        var plan = new QdqInsertion(module, context, settings);
        plan.Plan(chosen);
        // What an ncnn table names, read before the rewrite changes the operands: each layer's input and weight tensors.
        List<CalibrationTable.NcnnLayer> ncnnLayers = !CalibrationTable.IsNcnnTable(_table.Value) ? [] : plan.Ops.Where(op => op.OpType is "Conv" or "Gemm" or "MatMul")
            .Select(op => new CalibrationTable.NcnnLayer(QuantGraph.OpName(op), QuantGraph.TensorName(op.GetOperand(0)),
                QuantGraph.TensorName(op.GetOperand(WeightIndex(context, op)))))
            .ToList();
        if (plan.Ops.Count == 0)
        {
            context.Note("quantize-int8: nothing to quantize");
            return;
        }

        // The float model, kept for measuring each layer's error once the copy in hand is quantized.
        bool wantReport = _report.Value.Length > 0;
        var map = new Dictionary<Value, Value>();
        var floatModel = wantReport ? module.Clone(map) : null;
        var layers = wantReport ? plan.LayerOutputs.Select(l => (l.Op, Float: map[l.FloatOutput])).ToList() : null;

        var probes = plan.Probes;
        var grid = new ActivationGrid(plan.ActivationQuantType, _symmetricActivations.Value);
        var stats = probes.Select(_ => new TensorStatistics(method, _percentile.Value, grid)).ToArray();
        var progress = new CalibrationProgress(context.Notes, context.NotesIsTerminal, "quantize-int8: calibrating");
        int samples = runner.Run([new ProbedModel(module, probes)], source, (sample, perModel) =>
        {
            for (int i = 0; i < stats.Length; i++)
            {
                try { stats[i].Add(perModel[0][i]); }
                catch (ArgumentException e)
                {
                    // An activation no range can hold (a -inf mask, an overflow): name it so the user can exclude its readers.
                    throw new MirException($"quantize-int8: activation '{QuantGraph.TensorName(probes[i])}' on calibration sample {sample + 1}: {e.Message}; " +
                                           "keep the ops that read it float with exclude=REGEX");
                }
            }
        }, progress.Report);
        progress.Finish();
        if (samples == 0) throw new MirException("quantize-int8: the calibration source gave no samples");

        var ranges = new Dictionary<Value, (float Min, float Max)>();
        var methodOf = new Dictionary<Value, string>();
        List<RangeChoice>? choices = null;
        if (auto)
        {
            choices = RangeSelection.Choose(runner, source, module, probes, stats.Select(RangeSelection.CandidatesOf).ToList(), grid, _autoSamples.Value, _autoMargin.Value, context);
            for (int i = 0; i < probes.Count; i++)
            {
                ranges[probes[i]] = (choices[i].Chosen.Min, choices[i].Chosen.Max);
                methodOf[probes[i]] = "auto: " + choices[i].Chosen.Method;
            }
            context.Note("quantize-int8: method=auto chose, per tensor, " + string.Join(", ", choices.GroupBy(c => c.Chosen.Method)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} for {g.Count()}")) +
                $" (of {probes.Count}; report=FILE.json says where, with every candidate's error)");
        }
        for (int i = 0; i < probes.Count; i++)
        {
            if (!auto) ranges[probes[i]] = stats[i].ChooseRange();
            // The same value everywhere on every sample: the samples do not exercise this tensor (or it is a constant in disguise).
            if (stats[i].Count > 0 && stats[i].Min == stats[i].Max)
                context.Note($"quantize-int8: warning: activation '{QuantGraph.TensorName(probes[i])}' is the constant " +
                             $"{stats[i].Min.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} on all {samples} calibration samples: " +
                             "its int8 range is a guess; check the calibration data, or keep the ops that read it float with exclude=REGEX");
        }
        var records = plan.Apply(v => ranges[v], v => methodOf.GetValueOrDefault(v));
        context.Note($"quantize-int8: static int8 (QDQ, {MethodName()}, {(perChannel ? "per-channel" : "per-tensor")} weights, " +
                     $"{(_symmetricActivations.Value ? "int8 symmetric" : "uint8 asymmetric")} activations): {plan.Ops.Count} ops quantized, " +
                     $"calibrated on {samples} samples");

        if (_table.Value.Length > 0)
        {
            bool int8 = _symmetricActivations.Value;
            if (CalibrationTable.IsNcnnTable(_table.Value))
            {
                context.WriteFile(_table.Value, stream => CalibrationTable.WriteNcnn(ncnnLayers, records, int8, stream), "calibration table");
                context.Note($"quantize-int8: calibration table: {ncnnLayers.Count} layers' weight and input scales as ncnn's int8 scale table in {_table.Value}");
            }
            else
            {
                context.WriteFile(_table.Value, stream => CalibrationTable.WriteTensorRt(records, int8, stream), "calibration table");
                context.Note($"quantize-int8: calibration table: {records.Count(r => r.Kind == "activation")} activation ranges as TensorRT's calibration cache " +
                             $"({CalibrationTable.TensorRtHeader}) in {_table.Value}");
            }
        }
        if (!wantReport) return;
        var report = new QuantizationReport { Mode = "static", Method = MethodName(), Calibration = _calibration.Value, Samples = samples };
        report.Tensors.AddRange(records);
        if (choices is not null) report.Choices.AddRange(choices.Select((c, i) => c with { Tensor = plan.ActivationName(probes[i]) }));
        if (_histograms.Value)
            for (int i = 0; i < probes.Count; i++)
                if (stats[i].Histogram() is { } h) report.Histograms.Add(new TensorHistogram(plan.ActivationName(probes[i]), stats[i].Min, stats[i].Max, h.Width, h.Positive, h.Negative));
        report.Layers.AddRange(LayerErrors.Measure(runner, source, floatModel!, module,
            layers!.Select(l => (QuantGraph.OpName(l.Op), l.Op.OpType, l.Float, plan.QuantizedOutput(l.Op), plan.OutputParams(l.Op))).ToList(),
            plan.ActivationQuantType, _errorSamples.Value, context));
        Finish(report, context);
    }

    private void Finish(QuantizationReport report, PassContext context)
    {
        context.Notes.Write(report.Table());
        context.WriteFile(_report.Value, report.WriteJson, "quantize-int8 report");
    }

    private string MethodName() => _method.Value == "percentile"
        ? $"percentile {_percentile.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
        : _method.Value;

    // ------------------------------------------------------------------ choosing ops

    private List<Operation> ChooseOps(MirModule module, PassContext context)
    {
        var types = SplitOps(_ops.Value).ToHashSet(StringComparer.Ordinal);
        var exclude = _exclude.Value.Length > 0 ? TryRegex(_exclude.Value) : null;
        var chosen = new List<Operation>();
        var functions = module.Functions.ToList();
        if ((module.FindFunction("main") ?? (functions.Count == 1 ? functions[0] : null)) is not { } main) return chosen;
        foreach (var op in main.Body.Operations)
        {
            if (op.Dialect != OnnxDialect.Name || !types.Contains(op.OpType)) continue;
            if (exclude is not null && (exclude.IsMatch(QuantGraph.OpName(op)) || exclude.IsMatch(op.OpType)))
            {
                context.Count("ops excluded");
                context.Log($"excluded {op.OpType} {QuantGraph.OpName(op)} (matches exclude)");
                continue;
            }
            chosen.Add(op);
        }
        return chosen;
    }

    private static void RequireOpset(MirModule module, PassContext context, int opset, string needs)
    {
        if (OpsetUpgrade.CurrentOpset(module) >= opset) return;
        if (!OpsetUpgrade.TryUpgrade(module, opset, context, out var why))
            throw new MirException($"quantize-int8: {needs} needs opset {opset}, but the model is opset {OpsetUpgrade.CurrentOpset(module)} and cannot be raised: {why}");
        context.Note($"quantize-int8: the model was raised to opset {OpsetUpgrade.CurrentOpset(module)} for {needs}");
    }

    /// <summary>The error for a Conv/Gemm whose weight is computed at run time: int8 needs it known ahead.</summary>
    internal static MirException NotConstantWeight(Operation op, int index)
    {
        var name = QuantGraph.OpName(op);
        var from = op.GetOperand(index) switch
        {
            OpResult r => $"{r.Owner.OpType} '{QuantGraph.OpName(r.Owner)}'",
            BlockArgument a => $"graph input #{a.Index}",
            _ => "?",
        };
        return new MirException($"quantize-int8: the weight of {op.OpType} '{name}' (input {index}) is not constant (it comes from {from}), " +
                                $"so it cannot be quantized ahead of time; keep the node float with exclude='^{Regex.Escape(name)}$'");
    }

    private static string[] SplitOps(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static CalibrationMethod? ParseMethod(string text) => text switch
    {
        "minmax" => CalibrationMethod.MinMax,
        "percentile" => CalibrationMethod.Percentile,
        "entropy" => CalibrationMethod.Entropy,
        "mse" => CalibrationMethod.Mse,
        _ => null,
    };

    private static Regex? TryRegex(string pattern)
    {
        try { return new Regex(pattern, RegexOptions.CultureInvariant); }
        catch (ArgumentException) { return null; }
    }
}
