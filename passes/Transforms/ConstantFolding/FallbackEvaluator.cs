using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// What <c>--fold-constants</c> hands an operation to when its definition gives no folder, or its folder does not
/// cover the case: an evaluator, and which operations it can run (asked before it is handed one).
/// </summary>
public sealed record FallbackEvaluator(OpEvaluator Evaluate, Func<Operation, bool> CanEvaluate)
{
    /// <summary>An evaluator of ONNX's default-domain operators, as ONNX Runtime's (<see cref="PassServices.FallbackEvaluator"/>) is.</summary>
    public static FallbackEvaluator OfOnnxOperators(OpEvaluator evaluate) => new(evaluate, IsOnnxOperator);

    /// <summary>An operator of ONNX's default domain (<c>onnx.Erf</c>, not <c>onnx.com.microsoft.Gelu</c>): what a one-node ONNX model can hold.</summary>
    public static bool IsOnnxOperator(Operation op) => op.Dialect == OnnxDialect.Name && !op.OpType.Contains('.');
}
