using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Joining and padding, with axes and paddings from constant inputs.
/// <code>
/// ConcatV2(x1..xn, axis)          → Concat(x1..xn) {axis}
/// Pack(x1..xn) {axis}             → Concat(Unsqueeze(x1, [axis]), ...) {axis}   (a negative axis counts in the output, in both)
/// Pad(x, paddings[r, 2])          → Pad(x, [b0..b(r-1), e0..e(r-1)]) {mode = constant}
/// PadV2(x, paddings, value)       → Pad(x, pads, value)
/// MirrorPad(x, paddings) {REFLECT} → Pad(x, pads) {mode = reflect} (SYMMETRIC has no ONNX mode)
/// </code>
/// </summary>
internal static class ConcatPadLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["ConcatV2"] = l =>
        {
            int n = l.InputCount - 1;
            if (n < 1) throw Blocked("it has no values to concatenate");
            var axis = l.ConstInts(n, "axis");
            if (axis.Length != 1) throw Blocked($"its axis is {Text(axis)}, not one axis");
            var values = Enumerable.Range(0, n).Select(l.Input).ToArray();
            return [n == 1 ? values[0] : l.Emit("Concat", values, [Attr("axis", axis[0])])];
        };
        table["Pack"] = l =>
        {
            long axis = l.Int("axis", 0);
            if (l.InputCount < 1) throw Blocked("it has no values to pack");
            var axes = l.ConstI64([axis], "axes");
            var values = Enumerable.Range(0, l.InputCount).Select(i => l.Emit("Unsqueeze", [l.Input(i), axes])).ToArray();
            return [values.Length == 1 ? values[0] : l.Emit("Concat", values, [Attr("axis", axis)])];
        };
        table["Pad"] = l => [l.Emit("Pad", [l.Input(0), Pads(l)])];
        table["PadV2"] = l => [l.Emit("Pad", [l.Input(0), Pads(l), l.Input(2)])];
        table["MirrorPad"] = l =>
        {
            var mode = l.Str("mode", "");
            if (mode != "REFLECT") throw Blocked($"mode '{mode}' has no ONNX Pad mode (REFLECT has)");
            return [l.Emit("Pad", [l.Input(0), Pads(l)], [Attr("mode", "reflect")])];
        };
    }

    /// <summary>TF's paddings [[b0, e0], [b1, e1], ...] as ONNX's pads [b0, b1, ..., e0, e1, ...].</summary>
    private static Value Pads(OpLowering l)
    {
        var p = l.ConstInts(1, "paddings");
        if (p.Length % 2 != 0) throw Blocked($"its paddings {Text(p)} are not pairs");
        int r = p.Length / 2;
        var pads = new long[p.Length];
        for (int i = 0; i < r; i++) { pads[i] = p[2 * i]; pads[r + i] = p[2 * i + 1]; }
        return l.ConstI64(pads, "pads");
    }
}
