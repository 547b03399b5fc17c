using Mopt.Backend.Runtime;
using Mopt.Passes;

namespace Mopt.Tools.Opt;

/// <summary>ONNX Runtime as the passes' services: what mopt-opt gives its pass manager, and what tests give theirs.</summary>
public static class OrtPassServices
{
    /// <summary>ONNX Runtime as the calibration runner (static quantize-int8) and as fold-constants' fallback evaluator.</summary>
    public static PassServices Create() => new()
    {
        ModelRunner = new OrtModelRunner(),
        FallbackEvaluator = OrtOpEvaluator.Evaluate,
    };
}
