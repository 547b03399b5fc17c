using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>Where calibration samples come from: <c>calibration=DIR</c> or <c>calibration=random:N</c>.</summary>
public abstract record CalibrationSource
{
    /// <summary>
    /// A folder of <c>.npy</c> files, read in name order. A model with one input: each file is one sample or one batch.
    /// A model with several inputs: one subfolder per sample, holding <c>INPUT_NAME.npy</c> for each input.
    /// </summary>
    public sealed record Folder(string Path) : CalibrationSource;

    /// <summary><c>Count</c> samples of seeded random inputs: a smoke test, accuracy is not meaningful.</summary>
    public sealed record Random(int Count, int Seed = 0) : CalibrationSource;

    /// <summary><c>random:N</c> or a folder path; a malformed <c>random:</c> is a <see cref="FormatException"/>.</summary>
    public static CalibrationSource Parse(string text)
    {
        if (!text.StartsWith("random:", StringComparison.Ordinal)) return new Folder(text);
        return int.TryParse(text.AsSpan("random:".Length), out var n) && n > 0
            ? new Random(n)
            : throw new FormatException($"'{text}' is not random:N with N a positive count of samples");
    }
}

/// <summary>A model to run and the values to read out of it (float tensors of its main function).</summary>
public sealed record ProbedModel(MirModule Module, IReadOnlyList<Value> Probes);

/// <summary>
/// Runs modules in the reference runtime (ONNX Runtime) on calibration samples. The passes define what they need;
/// the runtime harness in <c>backend/Runtime</c> implements it, and mopt-opt installs it in <see cref="ModelRunners.Default"/>.
/// </summary>
public interface IModelRunner
{
    /// <summary>
    /// Runs every model on each sample of <paramref name="source"/> (each model gets the same inputs) and calls
    /// <paramref name="observe"/> once per sample with, per model, the values of its probes in order.
    /// <paramref name="progress"/> gets (samples done, samples it will run) after each sample. At most
    /// <paramref name="maxSamples"/> samples run (null: all). Returns the number of samples run.
    /// Bad calibration data (a missing or empty folder, an .npy whose shape or dtype does not match the model input)
    /// is a <see cref="MirException"/> that names the file.
    /// </summary>
    int Run(IReadOnlyList<ProbedModel> models, CalibrationSource source,
        Action<int, IReadOnlyList<IReadOnlyList<float[]>>> observe, Action<int, int>? progress = null, int? maxSamples = null);
}

/// <summary>The runner passes use unless a test gives them one (mopt-opt sets ONNX Runtime's).</summary>
public static class ModelRunners
{
    public static IModelRunner? Default { get; set; }
}
