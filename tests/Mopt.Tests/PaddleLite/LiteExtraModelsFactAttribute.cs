namespace Mopt.Tests.PaddleLite;

/// <summary>
/// A test of the real .nb files fetched for checking (not in the repository, not in CI): it runs when MOPT_EXTRA_MODELS
/// names the folder that holds them (its nb/ subfolder, or itself), and is skipped with the reason otherwise.
/// </summary>
public sealed class LiteExtraModelsFactAttribute : FactAttribute
{
    public LiteExtraModelsFactAttribute() => Skip = Folder is null ? "MOPT_EXTRA_MODELS is not set (the real .nb files are fetched by hand: tests/extra-models.md)" : null;

    /// <summary>The folder of the real .nb files, or null.</summary>
    public static string? Folder =>
        Environment.GetEnvironmentVariable("MOPT_EXTRA_MODELS") is { Length: > 0 } root
            ? (Directory.Exists(Path.Combine(root, "nb")) ? Path.Combine(root, "nb") : root)
            : null;
}
