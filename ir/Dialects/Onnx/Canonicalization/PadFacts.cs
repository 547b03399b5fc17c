using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

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
            pads = pad.ReadInts("pads") ?? pad.ReadInts("paddings");
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

    public static string Mode(Operation pad) => pad.ReadString("mode") ?? "constant";

    /// <summary>The value padded in (constant mode): the <c>value</c> attribute (opset &lt; 11) or the constant scalar third input; 0 when absent.</summary>
    public static double? Value(Operation pad, MirModule module, out string why)
    {
        why = "";
        if (pad.OperandCount == 1) return pad.ReadFloat("value") ?? 0.0;
        if (OnnxFacts.Optional(pad, 2) is not { } v) return 0.0;
        if (OnnxFacts.ConstDoubles(v, module) is not [var value])
        {
            why = "the pad value is not a constant scalar";
            return null;
        }
        return value;
    }
}
