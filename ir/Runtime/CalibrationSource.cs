namespace Mopt.Ir;

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
