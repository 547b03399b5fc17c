namespace Mopt.Tests.Paddle;

/// <summary>A test of the real PIR files fetched for checking (tests/extra-models.md): skipped unless MOPT_EXTRA_MODELS names their folder.</summary>
public sealed class PirExtraModelsFactAttribute : FactAttribute
{
    public PirExtraModelsFactAttribute()
    {
        if (Folder is null) Skip = "MOPT_EXTRA_MODELS is not set (the real PIR files from Paddle2ONNX's history; tests/extra-models.md)";
    }

    /// <summary>$MOPT_EXTRA_MODELS/pir, or null.</summary>
    public static string? Folder => Environment.GetEnvironmentVariable("MOPT_EXTRA_MODELS") is { Length: > 0 } dir ? Path.Combine(dir, "pir") : null;
}
