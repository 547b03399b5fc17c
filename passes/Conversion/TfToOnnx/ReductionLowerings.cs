using Mopt.Dialects.Onnx;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Reductions, with the axes from a constant input (negative ones count from the end, as in ONNX):
/// <code>
/// Mean, Sum, Max, Min, Prod(x, axes) {keep_dims} → ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceProd {keepdims}
///                                                 (an empty axes list reduces nothing: x itself)
/// ArgMax(x, axis) {output_type}                  → ArgMax {axis, keepdims = 0}, then Cast to int32 if asked
/// </code>
/// ReduceSum takes its axes as an input (opset 13), the others as an attribute (until opset 18).
/// </summary>
internal static class ReductionLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        foreach (var (tf, onnx) in new[] { ("Mean", "ReduceMean"), ("Sum", "ReduceSum"), ("Max", "ReduceMax"), ("Min", "ReduceMin"), ("Prod", "ReduceProd") })
            table[tf] = l => Reduce(l, onnx);
        table["ArgMax"] = l => ArgMax(l, "ArgMax");
        table["ArgMin"] = l => ArgMax(l, "ArgMin");
    }

    private static IReadOnlyList<Value> Reduce(OpLowering l, string onnx)
    {
        var x = l.Input(0);
        var axes = l.ConstInts(1, "reduction axes");
        if (axes.Length == 0) return [x];
        long keep = l.Bool("keep_dims") ? 1 : 0;
        long opset = OnnxOpset.Of(l.Module);
        bool axesInput = onnx == "ReduceSum" ? opset >= 13 : opset >= 18;
        return axesInput
            ? [l.Emit(onnx, [x, l.ConstI64(axes, "axes")], [Attr("keepdims", keep)])]
            : [l.Emit(onnx, [x], [Attr("axes", axes), Attr("keepdims", keep)])];
    }

    private static IReadOnlyList<Value> ArgMax(OpLowering l, string onnx)
    {
        var axis = l.ConstInts(1, "dimension");
        if (axis.Length != 1) throw Blocked($"its dimension is {Text(axis)}, not one axis");
        var index = l.Emit(onnx, [l.Input(0)], [Attr("axis", axis[0]), Attr("keepdims", 0)], ElementType.I64);
        var outType = l.TypeAttr("output_type") ?? ElementType.I64;
        return [outType == ElementType.I64 ? index : ShapeLowerings.Cast(l, index, outType)];
    }
}
