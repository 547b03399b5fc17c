namespace Mopt.Bench.Quantize;

public enum Verdict { Pass, Fail, NotApplicable }

/// <summary>What one method did to one model.</summary>
public sealed class MethodResult(QuantMethod method)
{
    public QuantMethod Method { get; } = method;
    public string? Output { get; set; }
    /// <summary>Why the method has no numbers: mopt-opt's error, or ONNX Runtime's.</summary>
    public string? Failure { get; set; }
    /// <summary>Wall time of the whole mopt-opt process (import, the pass, export): for calibrated methods, the calibration time.</summary>
    public double? ProcessSeconds { get; set; }
    /// <summary>The pass's own wall time from mopt-opt --timing.</summary>
    public double? PassSeconds { get; set; }
    public FileSizes? Sizes { get; set; }
    public Accuracy? Accuracy { get; set; }
    public double? LatencyMs { get; set; }
    public double? LatencyRatio { get; set; }
    public double? PairedLatencyRatio { get; set; }
    /// <summary>Median thread CPU time, method / float: steadier than wall time on a loaded machine.</summary>
    public double? CpuLatencyRatio { get; set; }
    /// <summary>The op types of the graph ONNX Runtime runs for this output (after its ORT_ENABLE_ALL optimizations).</summary>
    public string? OrtOps { get; set; }
    public int InitializersAsInputs { get; set; }
    /// <summary>The per-layer errors and the ranges' methods from mopt-opt's quantization report (calibrated methods).</summary>
    public LayerTable? Layers { get; set; }
    /// <summary>mopt-opt's pass statistics and notes for this run.</summary>
    public List<string> Notes { get; } = new();
}

/// <summary>One model: its float (deployed) form and every method's result.</summary>
public sealed class ModelResult(BenchModel model)
{
    public BenchModel Model { get; } = model;
    public string? FloatPath { get; set; }
    public FileSizes? FloatSizes { get; set; }
    public double? FloatLatencyMs { get; set; }
    public int Repeat { get; set; } = 1;
    public string? Failure { get; set; }
    public int EvalSamples { get; set; }
    public int RealSamples { get; set; }
    public int CalibrationSamples { get; set; }
    public string Measures { get; set; } = "";
    public string? FloatOrtOps { get; set; }
    /// <summary>Initializers the float model also lists as graph inputs (IR version &lt; 4 style; see <see cref="OrtGraph"/>).</summary>
    public int InitializersAsInputs { get; set; }
    public List<MethodResult> Methods { get; } = new();
    /// <summary>The float model's top-1 against the labels (a labelled model).</summary>
    public Accuracy? FloatLabels { get; set; }

    /// <summary>Top-1 points lost against the labels: float minus method (negative: the method is better).</summary>
    public double? LabelLoss(MethodResult m) => FloatLabels?.LabelTop1 is { } f && m.Accuracy?.LabelTop1 is { } q ? 100 * (f - q) : null;

    /// <summary>A calibrated int8 method on a labelled model loses at most 1.0 top-1 point; the default method at most 0.3.</summary>
    public Verdict Loss(MethodResult m) => !m.Method.Calibrated || FloatLabels is null ? Verdict.NotApplicable
        : Is(LabelLoss(m) is { } l && l <= (m.Method.Name == QuantMethods.DefaultName ? QuantMethods.DefaultLossTarget : QuantMethods.LossTarget) + 1e-9);

    public double? SizeRatio(MethodResult m) => FloatSizes is { } f && m.Sizes is { } s ? (double)f.Bytes / s.Bytes : null;
    public double? GzipReduction(MethodResult m) => FloatSizes is { } f && m.Sizes is { } s ? 1 - (double)s.Gzip / f.Gzip : null;
    public double? WeightsGzipReduction(MethodResult m) => FloatSizes is { } f && m.Sizes is { } s && f.WeightsGzip > 0 ? 1 - (double)s.WeightsGzip / f.WeightsGzip : null;

    /// <summary>
    /// The labelled model is tiny (0.16 MB, 18 µs an inference): its size and latency are shown, but fixed per-tensor
    /// overheads dominate them, so they are not held to the targets meant for deployable models.
    /// </summary>
    public bool AccuracyOnly => Model.Labelled is not null;

    public Verdict Size(MethodResult m) => m.Method.Kind == MethodKind.Rounding || AccuracyOnly ? Verdict.NotApplicable
        : Is(SizeRatio(m) is { } r && r >= m.Method.SizeTarget);

    public Verdict Gzip(MethodResult m) => m.Method.Kind != MethodKind.Rounding ? Verdict.NotApplicable
        : Is(GzipReduction(m) is { } r && r >= QuantMethods.GzipTarget);

    /// <summary>Not applicable when the model has no output to take top-1 over (it still fails when the method failed).</summary>
    public Verdict Top1(MethodResult m) => m.Failure is null && m.Accuracy is { Top1: null } ? Verdict.NotApplicable
        : Is(m.Accuracy?.Top1 is { } t && t >= QuantMethods.Top1Target);

    public Verdict Latency(MethodResult m) => m.Method.Kind != MethodKind.Int8 || AccuracyOnly ? Verdict.NotApplicable
        : Is(m.LatencyRatio is { } r && r <= QuantMethods.LatencyTarget);

    private static Verdict Is(bool ok) => ok ? Verdict.Pass : Verdict.Fail;
}
