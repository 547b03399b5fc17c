namespace Mopt.Bench.Quantize;

/// <summary>What a method makes, which decides the targets it is held to.</summary>
public enum MethodKind
{
    /// <summary>Float weights snapped to 256 levels: the file stays float; the target is its gzip size.</summary>
    Rounding,
    /// <summary>int8 weights, float compute: size and accuracy targets; latency is reported, not a target.</summary>
    WeightsOnly,
    /// <summary>int8 weights and activations (QDQ): size, accuracy and latency targets.</summary>
    Int8,
}

/// <summary>One way of quantizing: the mopt-opt flag it is, given the calibration folder, and the size it must reach (float bytes / its bytes).</summary>
public sealed record QuantMethod(string Name, MethodKind Kind, bool Calibrated, string PassName, Func<string, string> Flag, double SizeTarget = QuantMethods.SizeTarget)
{
    public string FlagText => Flag("DIR");
}

public static class QuantMethods
{
    public const double SizeTarget = 3.9, Top1Target = 0.99, LatencyTarget = 1.00, GzipTarget = 0.70;
    /// <summary>Top-1 points against the labels a calibrated method may lose (a labelled model); the default method, <see cref="DefaultLossTarget"/>.</summary>
    public const double LossTarget = 1.0, DefaultLossTarget = 0.3;
    public const string DefaultName = "default";
    /// <summary>4-bit weights in blocks of 32 with f32 scales: 5 bits a weight at best, 6.4x; the issue asks ≥ 6.0x of a large MLP.</summary>
    public const double FourBitSizeTarget = 6.0;

    public static readonly IReadOnlyList<QuantMethod> All =
    [
        new("round-weights", MethodKind.Rounding, false, "round-weights", _ => "--round-weights=bits=8"),
        new("quantize-weights-8", MethodKind.WeightsOnly, false, "quantize-weights", _ => "--quantize-weights=bits=8"),
        new("quantize-weights-4", MethodKind.WeightsOnly, false, "quantize-weights", _ => "--quantize-weights=bits=4 block-size=32", FourBitSizeTarget),
        new("dynamic", MethodKind.Int8, false, "quantize-int8", _ => "--quantize-int8"),
        new("minmax", MethodKind.Int8, true, "quantize-int8", dir => $"--quantize-int8=calibration={dir} method=minmax"),
        new("percentile", MethodKind.Int8, true, "quantize-int8", dir => $"--quantize-int8=calibration={dir} method=percentile"),
        new("entropy", MethodKind.Int8, true, "quantize-int8", dir => $"--quantize-int8=calibration={dir} method=entropy"),
        new("mse", MethodKind.Int8, true, "quantize-int8", dir => $"--quantize-int8=calibration={dir} method=mse"),
        new("auto", MethodKind.Int8, true, "quantize-int8", dir => $"--quantize-int8=calibration={dir} method=auto"),
        // the exact command a user types: whatever method mopt picks by default
        new(DefaultName, MethodKind.Int8, true, "quantize-int8", dir => $"--quantize-int8=calibration={dir}"),
    ];
}
