using Mopt.Ir;

namespace Mopt.Passes.Canonicalization;

/// <summary>Reading a Pad: its pads over every axis, its mode and its constant value (Pad-1, -2, -11, -18).</summary>
public static class PadFacts
{
    /// <summary>
    /// The pads as ONNX writes them over all N axes, <c>[b_0, ..., b_(N-1), e_0, ..., e_(N-1)]</c>: from the attribute
    /// (<c>pads</c>, or <c>paddings</c> in Pad-1) or the constant second input, spread over all axes when the
    /// optional <c>axes</c> input (opset 18) names only some (that needs the input's rank).
    /// </summary>
    public static long[]? Pads(Operation pad, MirModule module, out string why)
    {
        long[]? pads;
        if (pad.OperandCount == 1)
        {
            pads = OnnxFacts.Ints(pad, "pads") ?? OnnxFacts.Ints(pad, "paddings");
            if (pads is null) { why = "it has no pads attribute"; return null; }
        }
        else
        {
            pads = OnnxFacts.ConstInts(pad.GetOperand(1), module);
            if (pads is null) { why = "pads is not a constant"; return null; }
        }
        if (pads.Length % 2 != 0) { why = "pads has an odd length"; return null; }
        if (OnnxFacts.Optional(pad, 3) is { } axesValue)
        {
            if (OnnxFacts.ConstInts(axesValue, module) is not { } axes) { why = "axes is not a constant"; return null; }
            if (OnnxFacts.ShapeOf(pad.GetOperand(0)) is not { } shape) { why = "axes are given and the input's rank is unknown"; return null; }
            if (SliceFacts.NormalizeAxes(axes, shape.Count) is not { } normal || pads.Length != 2 * normal.Length)
            {
                why = "axes do not match the input's rank or the pads"; return null;
            }
            int n = shape.Count;
            var full = new long[2 * n];
            for (int i = 0; i < normal.Length; i++)
            {
                full[normal[i]] = pads[i];
                full[n + normal[i]] = pads[normal.Length + i];
            }
            pads = full;
        }
        why = "";
        return pads;
    }

    public static string Mode(Operation pad) => pad.GetString("mode") ?? "constant";

    /// <summary>The value padded in (constant mode): the <c>value</c> attribute (opset &lt; 11) or the constant scalar third input; 0 when absent.</summary>
    public static double? Value(Operation pad, MirModule module, out string why)
    {
        why = "";
        if (pad.OperandCount == 1) return pad.GetFloat("value") ?? 0.0;
        if (OnnxFacts.Optional(pad, 2) is not { } v) return 0.0;
        if (OnnxFacts.ConstDoubles(v, module) is not [var value])
        {
            why = "the pad value is not a constant scalar";
            return null;
        }
        return value;
    }
}

/// <summary>
/// <code>
/// Before: %1 = "onnx.Pad"(%0, %zeros) : (tensor&lt;1x3x8x8xf32&gt;, tensor&lt;8xi64&gt;) -> tensor&lt;1x3x8x8xf32&gt;
/// After:  users of %1 read %0
/// </code>
/// Applies when every pad is 0 (any mode then copies the input) and the types are equal. A Pad with equal types whose
/// pads are not constant is recorded as skipped.
/// </summary>
internal sealed class RemoveNoOpPad(MirModule module) : RewritePattern
{
    public override string Name => "no-op Pad removed";
    public override string? Root => "onnx.Pad";

    public override bool MatchAndRewrite(Operation op, PassContext context)
    {
        if (op.OperandCount < 1 || op.Results.Count != 1) return false;
        var input = op.GetOperand(0);
        if (input.Type != op.Result.Type) return false;
        if (PadFacts.Pads(op, module, out var why) is not { } pads)
        {
            context.Skip(op, why);
            return false;
        }
        if (pads.Any(p => p != 0)) return false;
        return Forwarding.Forward(op, input, context);
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
internal sealed class RemoveNoOpSlice(MirModule module) : RewritePattern
{
    public override string Name => "no-op Slice removed";
    public override string? Root => "onnx.Slice";

    public override bool MatchAndRewrite(Operation op, PassContext context)
    {
        if (op.OperandCount < 1 || op.Results.Count != 1) return false;
        var input = op.GetOperand(0);
        if (input.Type is not TensorType { Shape: { } dims } || input.Type != op.Result.Type) return false;
        if (SliceFacts.Read(op, module, out var why) is not { } spec)
        {
            context.Skip(op, why);
            return false;
        }
        if (SliceFacts.NormalizeAxes(spec.Axes, dims.Count) is not { } axes) return false;
        for (int i = 0; i < axes.Length; i++)
        {
            long dim = dims[(int)axes[i]];
            if (SliceFacts.CoversWholeAxis(spec.Starts[i], spec.Ends[i], spec.Steps[i], dim)) continue;
            if (dim < 0 && spec.Steps[i] == 1 && spec.Starts[i] == 0)
                context.Skip(op, $"axis {axes[i]} is dynamic and end {spec.Ends[i]} may not reach its end");
            return false;
        }
        return Forwarding.Forward(op, input, context);
    }
}
