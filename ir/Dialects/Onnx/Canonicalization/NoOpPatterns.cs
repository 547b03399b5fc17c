using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Canonicalization;

/// <summary>Shared by the patterns that remove an operation whose result equals one of its inputs.</summary>
internal static class Forwarding
{
    /// <summary>
    /// Replaces <paramref name="op"/>'s first result by <paramref name="input"/> and erases the operation (its other
    /// results must be unused), when both have the same type (otherwise a use would change type: a match failure).
    /// </summary>
    public static bool Forward(Operation op, Value input, PatternRewriter rewriter)
    {
        var output = op.Results[0];
        if (input.Type != output.Type)
            return rewriter.NotifyMatchFailure(op, $"input type {input.Type} differs from output type {output.Type}");
        if (op.Results.Count == 1) rewriter.ReplaceOp(op, input);
        else
        {
            rewriter.ReplaceAllUsesWith(output, input);
            rewriter.EraseOp(op);
        }
        return true;
    }
}

/// <summary>
/// <code>
/// Before: %1 = "onnx.Identity"(%0) ; "onnx.Relu"(%1)
/// After:  "onnx.Relu"(%0)
/// </code>
/// Applies when the Identity has one operand and one result of the same type.
/// </summary>
internal sealed class RemoveIdentity : RewritePattern
{
    public override string Name => "Identity removed";
    public override string? Root => "onnx.Identity";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount != 1 || op.Results.Count != 1) return false;
        return Forwarding.Forward(op, op.GetOperand(0), rewriter);
    }
}

/// <summary>
/// <code>
/// Before: %y, %mask = "onnx.Dropout"(%x) ; (no use of %mask)
/// After:  users of %y read %x
/// </code>
/// A Dropout is the identity in inference: opset 7 and later when <c>training_mode</c> (input 3, opset 12+) is absent
/// or a constant false; before opset 7 only with <c>is_test = 1</c>. Kept (and recorded) when the mask output is used,
/// <c>training_mode</c> is true or not a constant, <c>is_test</c> is 0, or the output type differs from the input's.
/// </summary>
internal sealed class RemoveInferenceDropout : RewritePattern
{
    public override string Name => "Dropout removed";
    public override string? Root => "onnx.Dropout";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount < 1 || op.Results.Count is < 1 or > 2) return false;
        if (op.Results.Count == 2 && op.Results[1].HasUses)
            return rewriter.NotifyMatchFailure(op, "its mask output is used");
        if (OnnxOpset.Of(rewriter.Module) < 7 && op.ReadInt("is_test") != 1)
            return rewriter.NotifyMatchFailure(op, "before opset 7 a Dropout without is_test = 1 runs in training mode");
        if (OnnxFacts.Optional(op, 2) is { } trainingMode)
        {
            if (OnnxFacts.ConstInts(trainingMode, rewriter.Module) is not { } flags)
                return rewriter.NotifyMatchFailure(op, "training_mode is not a constant");
            if (flags.Any(f => f != 0))
                return rewriter.NotifyMatchFailure(op, "training_mode is true");
        }
        return Forwarding.Forward(op, op.GetOperand(0), rewriter);
    }
}

/// <summary>
/// <code>
/// Before: %1 = "onnx.Cast"(%0) {to = 1 : i64} : (tensor&lt;4xf32&gt;) -> tensor&lt;4xf32&gt;
/// After:  users of %1 read %0
/// </code>
/// A Cast (or CastLike) to the element type its input already has. Applies when input and output types are equal.
/// </summary>
internal sealed class RemoveNoOpCast(string opName) : RewritePattern
{
    public override string Name => "no-op Cast removed";
    public override string? Root => opName;

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount < 1 || op.Results.Count != 1) return false;
        if (op.GetOperand(0).Type is not TensorType input || op.Result.Type is not TensorType output) return false;
        if (input.Element != output.Element) return false;
        // The target the runtime casts to: the `to` attribute (Cast) or the second input's element type (CastLike).
        bool sameTarget = op.Name == "onnx.CastLike"
            ? op.OperandCount == 2 && op.GetOperand(1).Type is TensorType like && like.Element == input.Element
            : OnnxLegacy.CastTarget(op) is long to && OnnxDataTypes.DataTypeOf(input.Element) == to;
        if (!sameTarget)
            return rewriter.NotifyMatchFailure(op, $"its cast target does not match its declared output type {output}");
        return Forwarding.Forward(op, op.GetOperand(0), rewriter);
    }
}
