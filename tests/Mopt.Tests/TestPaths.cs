using System.Runtime.CompilerServices;

namespace Mopt.Tests;

public static class TestPaths
{
    /// <summary>The repository's root, from this file's own place (tests/Mopt.Tests/TestPaths.cs).</summary>
    public static string RepoRoot() => Root();

    private static string Root([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", ".."));

    /// <summary>../shared/models beside the repository (CI always has it).</summary>
    public static string SharedModels => Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "models"));

    public static string MoptOpt => Path.Combine(RepoRoot(), "artifacts", "mopt-opt", "mopt-opt");
    public static string MlirOpt => "/usr/lib/llvm-19/bin/mlir-opt";
}
