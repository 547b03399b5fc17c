using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Canonicalization;

/// <summary>
/// <code>
/// Before: %1 = "onnx.Pad"(%0, %zeros) : (tensor&lt;1x3x8x8xf32&gt;, tensor&lt;8xi64&gt;) -> tensor&lt;1x3x8x8xf32&gt;
/// After:  users of %1 read %0
/// </code>
/// Applies when every pad is 0 (any mode then copies the input) and the types are equal. A Pad with equal types whose
/// pads are not constant is recorded as skipped.
/// </summary>
internal sealed class RemoveNoOpPad : RewritePattern
{
    public override string Name => "no-op Pad removed";
    public override string? Root => "onnx.Pad";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount < 1 || op.Results.Count != 1) return false;
        var input = op.GetOperand(0);
        if (input.Type != op.Result.Type) return false;
        if (PadFacts.Pads(op, rewriter.Module, out var why) is not { } pads)
            return rewriter.NotifyMatchFailure(op, why);
        if (pads.Any(p => p != 0)) return false;
        return Forwarding.Forward(op, input, rewriter);
    }
}

/// <summary>
/// <code>
/// Before: %1 = "onnx.Slice"(%0, %starts, %ends, %axes) : (tensor&lt;?x3xf32&gt;, ...) -> tensor&lt;?x3xf32&gt;   (starts 0, ends INT64_MAX)
/// After:  users of %1 read %0
/// </code>
/// Applies when the types are equal and every sliced axis is taken whole with step 1: start resolves to 0 and end to
/// the dimension. On a dynamic dimension only start 0 and an end of at least INT32_MAX count as whole. A Slice with
/// equal types whose parameters are not constant (or not provably whole) is recorded as skipped.
/// </summary>
internal sealed class RemoveNoOpSlice : RewritePattern
{
    public override string Name => "no-op Slice removed";
    public override string? Root => "onnx.Slice";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount < 1 || op.Results.Count != 1) return false;
        var input = op.GetOperand(0);
        if (input.Type is not TensorType { Shape: { } dims } || input.Type != op.Result.Type) return false;
        if (SliceFacts.Read(op, rewriter.Module, out var why) is not { } spec)
            return rewriter.NotifyMatchFailure(op, why);
        if (SliceFacts.NormalizeAxes(spec.Axes, dims.Count) is not { } axes) return false;
        for (int i = 0; i < axes.Length; i++)
        {
            long dim = dims[(int)axes[i]];
            if (SliceFacts.CoversWholeAxis(spec.Starts[i], spec.Ends[i], spec.Steps[i], dim)) continue;
            if (dim < 0 && spec.Steps[i] == 1 && spec.Starts[i] == 0)
                rewriter.NotifyMatchFailure(op, $"axis {axes[i]} is dynamic and end {spec.Ends[i]} may not reach its end");
            return false;
        }
        return Forwarding.Forward(op, input, rewriter);
    }
}
