using Mopt.Backend.Runtime;
using Mopt.Passes;
using Mopt.Passes.Quantization;

namespace Mopt.Tests;

/// <summary>What mopt-opt installs at startup, for tests that run passes needing ONNX Runtime.</summary>
public static class TestRuntime
{
    /// <summary>ONNX Runtime as the calibration runner and the constant-folding fallback; safe to call any number of times.</summary>
    public static void Install()
    {
        ModelRunners.Default ??= new OrtModelRunner();
        OpEvaluators.Fallback ??= OrtOpEvaluator.Evaluate;
    }
}
