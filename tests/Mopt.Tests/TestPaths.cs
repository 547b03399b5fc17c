using System.Runtime.CompilerServices;

namespace Mopt.Tests;

public static class TestPaths
{
    public static string RepoRoot([CallerFilePath] string callerPath = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(callerPath)!, "..", ".."));

    /// <summary>../shared/models beside the repository (CI always has it).</summary>
    public static string SharedModels => Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "models"));

    public static string MoptOpt => Path.Combine(RepoRoot(), "artifacts", "bin", "mopt-opt", "release", "mopt-opt");
    public static string MlirOpt => "/usr/lib/llvm-19/bin/mlir-opt";
}
