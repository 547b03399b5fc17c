using Mopt.Api;
using Mopt.Backend.Runtime;
using Mopt.Passes;

namespace Mopt.Tests;

/// <summary>What mopt-opt gives its passes, for tests that run passes needing ONNX Runtime (each test passes it explicitly).</summary>
public static class TestRuntime
{
    /// <summary>ONNX Runtime as the calibration runner and the constant-folding fallback (immutable: safe to share).</summary>
    public static PassServices Services { get; } = OrtPassServices.Create();
}
