using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Canonicalization;

/// <summary>The target shape of a Reshape: its constant second input (opset 5+) or its <c>shape</c> attribute (opset 1-4).</summary>
internal static class ReshapeFacts
{
    public static long[]? TargetShape(Operation reshape, MirModule module) =>
        reshape.OperandCount == 2 ? OnnxFacts.ConstInts(reshape.GetOperand(1), module)
        : reshape.OperandCount == 1 ? reshape.ReadInts("shape")
        : null;

    public static bool AllowZero(Operation reshape) => reshape.ReadInt("allowzero") is long z && z != 0;
}

/// <summary>
/// <code>
/// Before: %s = "onnx.Constant"() {value = dense&lt;[0, 3, -1]&gt;} ; %1 = "onnx.Reshape"(%0, %s) : (tensor&lt;?x3x4xf32&gt;, ...) -> tensor&lt;?x3x4xf32&gt;
/// After:  users of %1 read %0
/// </code>
/// Applies when input and output types are equal and the constant target shape provably gives the input's shape:
/// it has the input's rank and each entry is the input's (static) dimension, or 0 with <c>allowzero = 0</c> (copy the
/// dimension), or the single -1 when every other entry is proven equal. A Reshape whose types are equal but whose
/// shape is not a constant, or asks for a number where the input dimension is dynamic, is recorded as skipped.
/// </summary>
internal sealed class RemoveNoOpReshape : RewritePattern
{
    public override string Name => "no-op Reshape removed";
    public override string? Root => "onnx.Reshape";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount is < 1 or > 2 || op.Results.Count != 1) return false;
        var input = op.GetOperand(0);
        if (input.Type is not TensorType { Shape: { } dims } || input.Type != op.Result.Type) return false;
        if (ReshapeFacts.TargetShape(op, rewriter.Module) is not { } shape)
            return rewriter.NotifyMatchFailure(op, "the target shape is not a constant");
        if (shape.Length != dims.Count) return false;
        bool allowZero = ReshapeFacts.AllowZero(op);
        int inferred = -1;
        for (int i = 0; i < shape.Length; i++)
        {
            long s = shape[i], d = dims[i];
            if (s == 0 && !allowZero) continue;
            if (s == -1)
            {
                if (inferred >= 0) return false; // two -1: not a valid Reshape
                inferred = i;
                continue;
            }
            if (d >= 0 && s == d) continue;
            if (d < 0)
                rewriter.NotifyMatchFailure(op, $"dimension {i} is dynamic and the target shape asks for {s}");
            return false;
        }
        return Forwarding.Forward(op, input, rewriter);
    }
}

/// <summary>
/// <code>
/// Before: %1 = "onnx.Reshape"(%0, %s1) ; %2 = "onnx.Reshape"(%1, %s2)
/// After:  %2 = "onnx.Reshape"(%0, %s2') loc(fused["outer", "inner"])   (the first Reshape goes if nothing else reads it)
/// </code>
/// Only the last shape matters, except for its 0 entries (with <c>allowzero = 0</c>), which copy a dimension of the
/// first Reshape's result: each is replaced by that dimension when the type gives it (a new constant <c>%s2'</c>), else
/// the merge is skipped. A non-constant second shape merges only with <c>allowzero = 1</c> (no entry copies anything).
/// -1 entries are kept: the element count is the same either way.
/// </summary>
internal sealed class MergeReshapes : RewritePattern
{
    public override string Name => "Reshapes merged";
    public override string? Root => "onnx.Reshape";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount != 2 || op.Results.Count != 1) return false;
        if (OnnxFacts.Producer(op.GetOperand(0), "onnx.Reshape") is not { OperandCount: >= 1 } inner || inner.Parent is null) return false;
        if (inner.Results.Count != 1) return false;
        var source = inner.GetOperand(0);

        Value shapeOperand = op.GetOperand(1);
        if (!ReshapeFacts.AllowZero(op))
        {
            if (OnnxFacts.ConstInts(shapeOperand, rewriter.Module) is not { } shape)
                return rewriter.NotifyMatchFailure(op, "cannot merge with the Reshape before it: the target shape is not a constant (its 0 entries would copy other dimensions)");
            if (shape.Contains(0))
            {
                var middle = OnnxFacts.ShapeOf(inner.Result);
                var resolved = (long[])shape.Clone();
                for (int i = 0; i < resolved.Length; i++)
                {
                    if (resolved[i] != 0) continue;
                    long d = middle is not null && i < middle.Count ? middle[i] : -1;
                    if (d <= 0)
                        return rewriter.NotifyMatchFailure(op, $"cannot merge with the Reshape before it: entry {i} of the shape copies a dimension that is {(d == 0 ? "0" : "not known")}");
                    resolved[i] = d;
                }
                var constOp = Constants.DefiningConstant(shapeOperand)!;
                shapeOperand = Constants.CreateInt64s(rewriter.Builder, rewriter.Module, resolved, constOp.Location, "reshape_shape");
            }
        }
        // The inner Reshape and the old shape go if nothing else reads them; the merged Reshape carries the inner's location.
        rewriter.ModifyInPlace(op, () =>
        {
            op.SetOperand(0, source);
            op.SetOperand(1, shapeOperand);
        }, absorbs: inner);
        return true;
    }
}
