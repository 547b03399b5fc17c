using Mopt.Dialects.Onnx;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Constants, pass-throughs and shape ops.
/// <code>
/// Const                          → onnx.Constant with the same value attribute (a blob stays the same bytes)
/// Identity, Snapshot, StopGradient, PreventGradient, CheckNumerics → nothing: users read the input
/// Reshape(x, shape)              → Reshape(x, shape as int64) (allowzero = 1 when a constant shape has a 0: TF's 0 is a size)
/// Squeeze(x) {squeeze_dims}      → Squeeze(x, axes) (no axes: every 1-sized axis, in both)
/// ExpandDims(x, dim)             → Unsqueeze(x, [dim])
/// Transpose(x, perm)             → Transpose(x) {perm}
/// Shape(x) {out_type}            → Shape(x), then Cast to int32 unless out_type is int64
/// Cast(x) {DstT}                 → Cast(x) {to}
/// </code>
/// </summary>
internal static class ShapeLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["Const"] = Const;
        foreach (var name in new[] { "Identity", "Snapshot", "StopGradient", "PreventGradient", "CheckNumerics" })
            table[name] = l => [l.Input(0)];
        table["Reshape"] = Reshape;
        table["Squeeze"] = l =>
        {
            var dims = l.Ints("squeeze_dims") ?? l.Ints("axis") ?? [];
            return dims.Length == 0 ? [l.Emit("Squeeze", [l.Input(0)])] : [l.Emit("Squeeze", [l.Input(0), l.ConstI64(dims, "axes")])];
        };
        table["ExpandDims"] = l =>
        {
            var dim = l.ConstInts(1, "dim");
            if (dim.Length != 1) throw Blocked($"its dim is {Text(dim)}, not one axis");
            return [l.Emit("Unsqueeze", [l.Input(0), l.ConstI64(dim, "axes")])];
        };
        table["Transpose"] = l => [l.Transpose(l.Input(0), l.ConstInts(1, "perm"))];
        table["Shape"] = l =>
        {
            var shape = l.Emit("Shape", [l.Input(0)], element: ElementType.I64);
            var outType = l.TypeAttr("out_type") ?? ElementType.I32;
            return [outType == ElementType.I64 ? shape : Cast(l, shape, outType)];
        };
        table["Cast"] = l =>
        {
            var to = l.TypeAttr("DstT") ?? throw Blocked("it has no DstT");
            return [Cast(l, l.Input(0), to)];
        };
    }

    public static Value Cast(OpLowering l, Value x, ElementType to)
    {
        var code = OnnxDataTypes.DataTypeOf(to) ?? throw Blocked($"ONNX has no element type {to}");
        return l.Emit("Cast", [x], [Attr("to", code)], to);
    }

    private static IReadOnlyList<Value> Const(OpLowering l)
    {
        var value = l.Op.GetAttr("value");
        if (value is not (DenseElementsAttr or DenseResourceAttr) || l.Op.Results.Count != 1 || l.Op.Result.Type is not TensorType type)
            throw Blocked("its value is not a numeric tensor ONNX can hold (strings, quantized and complex types have no ONNX constant here)");
        if (OnnxDataTypes.DataTypeOf(type.Element) is null) throw Blocked($"ONNX has no element type {type.Element}");
        return [l.ConstAttr(value, type)];
    }

    private static IReadOnlyList<Value> Reshape(OpLowering l)
    {
        var x = l.Input(0);
        if (l.IsConst(1))
        {
            var shape = l.ConstInts(1, "shape");
            var attrs = shape.Contains(0) ? new[] { Attr("allowzero", 1) } : [];
            return [l.Emit("Reshape", [x, l.ConstI64(shape, "shape")], attrs)];
        }
        var s = l.Input(1);
        if (ElementOf(s) != ElementType.I64) s = Cast(l, s, ElementType.I64);
        return [l.Emit("Reshape", [x, s])];
    }
}
