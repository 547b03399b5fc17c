namespace Mopt.Api;

/// <summary>How to compare a model with its original (mopt-opt's <c>--verify-tolerance</c>, <c>--verify-inputs</c>, <c>--verify-seed</c>).</summary>
public sealed record VerifyOptions
{
    /// <summary>The largest allowed relative difference of an output (max |a-b| / max |original|).</summary>
    public double Tolerance { get; init; } = 1e-4;

    /// <summary>A folder of .npy inputs named after the inputs (or input_0.npy, ...); null: seeded random inputs.</summary>
    public string? InputsDir { get; init; }

    /// <summary>The seed of the random inputs.</summary>
    public int Seed { get; init; }

    /// <summary>How to read the original when it is not .onnx (its Caffe weights, TensorFlow outputs, ...).</summary>
    public LoadOptions? OriginalLoadOptions { get; init; }
}
