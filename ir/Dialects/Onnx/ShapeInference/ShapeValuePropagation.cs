using Mopt.Ir;
using static Mopt.Dialects.Onnx.ShapeInference.ShapeMath;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// Computes the contents of small integer tensors that hold shapes, the way exported models build them:
/// <c>Shape → Gather → Unsqueeze → Concat → Reshape</c>. A dynamic dim read by <c>Shape</c> stays symbolic
/// ("dim 0 of %x"), so that Reshape can cancel it against the same dim of its input.
/// </summary>
internal static class ShapeValuePropagation
{
    public static ShapeValue? Evaluate(OpResult result, ShapeContext ctx)
    {
        var op = result.Owner;
        if (result.Index != 0) return null;
        if (result.Type is TensorType { Shape: { } rs } rt && (rs.Count > 1 || (rt.ElementCount is long n && n > ShapeContext.MaxPropagatedElements)))
            return null;
        if (ctx.ConstantOf(result) is not null) return Constant(op, ctx);
        return op.Name switch
        {
            "onnx.Shape" => Shape(op),
            "onnx.Size" => ShapeOf(op.Input(0)) is { } xs && xs.All(d => d >= 0) ? ShapeValue.Of([Product(xs)], isScalar: true) : null,
            "onnx.Identity" => Arg(op, 0, ctx),
            "onnx.Cast" => OnnxLegacy.CastTarget(op) is long to && OnnxDataTypes.ElementOrNone(to).IsInteger && !OnnxDataTypes.ElementOrNone(to).IsBool ? Arg(op, 0, ctx) : null,
            "onnx.Gather" => Gather(op, ctx),
            "onnx.Concat" => Concat(op, ctx),
            "onnx.Unsqueeze" => Arg(op, 0, ctx) is { IsScalar: true } s ? s with { IsScalar = false } : null,
            "onnx.Squeeze" => Arg(op, 0, ctx) is { IsScalar: false, Count: 1 } s ? s with { IsScalar = true } : null,
            "onnx.Reshape" => Reshape(op, ctx),
            "onnx.Slice" => Slice(op, ctx),
            "onnx.Add" or "onnx.Sub" or "onnx.Mul" or "onnx.Div" => Arithmetic(op, ctx),
            "onnx.ConstantOfShape" => ConstantOfShape(op, ctx),
            _ => null,
        };
    }

    private static ShapeValue? Arg(Operation op, int index, ShapeContext ctx) =>
        op.Input(index) is { } v ? ctx.GetShapeValue(v) : null;

    private static ShapeValue? Constant(Operation op, ShapeContext ctx)
    {
        if (ConstantValues.TypeOf(op) is not { Shape: { } shape } type || shape.Count > 1 || !type.Element.IsInteger) return null;
        var ints = ConstantValues.ReadInts(op, ctx.Inference.Dialects, ctx.Resources, ShapeContext.MaxPropagatedElements);
        return ints is null ? null : ShapeValue.Of(ints, isScalar: shape.Count == 0);
    }

    private static ShapeValue? Shape(Operation op)
    {
        var x = op.Input(0);
        if (ShapeOf(x) is not { } xs) return null;
        var (start, end) = ShapeOpShapes.ShapeRange(op, xs.Length);
        var elements = new List<ShapeElement>();
        for (int i = start; i < end; i++) elements.Add(xs[i] >= 0 ? ShapeElement.Known(xs[i]) : ShapeElement.DimOf(x!, i));
        return new ShapeValue(elements, IsScalar: false);
    }

    private static ShapeValue? Gather(Operation op, ShapeContext ctx)
    {
        if (op.Int("axis", 0) is not (0 or -1)) return null;
        if (Arg(op, 0, ctx) is not { IsScalar: false } data) return null;
        if (Arg(op, 1, ctx) is not { IsFullyKnown: true } indices) return null;
        var picked = new List<ShapeElement>();
        foreach (var e in indices.Elements)
        {
            long i = e.Value < 0 ? e.Value + data.Count : e.Value;
            if (i < 0 || i >= data.Count) return null;
            picked.Add(data.Elements[(int)i]);
        }
        return new ShapeValue(picked, indices.IsScalar);
    }

    private static ShapeValue? Concat(Operation op, ShapeContext ctx)
    {
        var elements = new List<ShapeElement>();
        for (int k = 0; k < op.OperandCount; k++)
        {
            if (Arg(op, k, ctx) is not { IsScalar: false } part) return null;
            elements.AddRange(part.Elements);
        }
        return new ShapeValue(elements, IsScalar: false);
    }

    private static ShapeValue? Reshape(Operation op, ShapeContext ctx)
    {
        if (Arg(op, 0, ctx) is not { } data || op.Input(1) is not { } shapeInput) return null;
        return ctx.GetInts(shapeInput) switch
        {
            [] when data.Count == 1 => data with { IsScalar = true },
            [var d] when d == -1 || d == data.Count || (d == 0 && !data.IsScalar) => data with { IsScalar = false },
            _ => null,
        };
    }

    private static ShapeValue? Slice(Operation op, ShapeContext ctx)
    {
        if (op.OperandCount < 3 || Arg(op, 0, ctx) is not { IsScalar: false } data) return null;
        long[]? Ints(int i) => op.Input(i) is { } v ? ctx.GetInts(v) : null;
        if (Ints(1) is not [var start] || Ints(2) is not [var end]) return null;
        if (op.Input(3) is not null && Ints(3) is not ([0] or [-1])) return null;
        long step = 1;
        if (op.Input(4) is not null) { if (Ints(4) is [var s] && s != 0) step = s; else return null; }
        long n = data.Count;
        if (start < 0) start += n;
        if (end < 0) end += n;
        var picked = new List<ShapeElement>();
        if (step > 0)
        {
            start = Math.Clamp(start, 0, n);
            end = Math.Clamp(end, 0, n);
            for (long i = start; i < end; i += step) picked.Add(data.Elements[(int)i]);
        }
        else
        {
            start = Math.Clamp(start, 0, n - 1);
            end = Math.Clamp(end, -1, n - 1);
            for (long i = start; i > end; i += step) picked.Add(data.Elements[(int)i]);
        }
        return new ShapeValue(picked, IsScalar: false);
    }

    private static ShapeValue? Arithmetic(Operation op, ShapeContext ctx)
    {
        if (Arg(op, 0, ctx) is not { } a || Arg(op, 1, ctx) is not { } b) return null;
        int n = Math.Max(a.Count, b.Count);
        if ((a.Count != n && a.Count != 1) || (b.Count != n && b.Count != 1)) return null;
        var elements = new ShapeElement[n];
        for (int i = 0; i < n; i++)
        {
            var x = a.Elements[a.Count == 1 ? 0 : i];
            var y = b.Elements[b.Count == 1 ? 0 : i];
            elements[i] = x.Exact && y.Exact && Compute(op.OpType, x.Value, y.Value) is long v ? ShapeElement.Known(v) : ShapeElement.Unknown;
        }
        return new ShapeValue(elements, a.IsScalar && b.IsScalar);
    }

    private static long? Compute(string opType, long x, long y)
    {
        try
        {
            return opType switch
            {
                "Add" => checked(x + y),
                "Sub" => checked(x - y),
                "Mul" => checked(x * y),
                "Div" => y == 0 ? null : x / y,
                _ => null,
            };
        }
        catch (OverflowException) { return null; }
    }

    private static ShapeValue? ConstantOfShape(Operation op, ShapeContext ctx)
    {
        if (Arg(op, 0, ctx) is not { IsFullyKnown: true, IsScalar: false } shape || shape.Count > 1) return null;
        long count = shape.Count == 0 ? 1 : shape.Elements[0].Value;
        if (count > ShapeContext.MaxPropagatedElements) return null;
        long fill = 0;
        switch (op.GetAttr("value"))
        {
            case null: return null; // float zeros
            case DenseElementsAttr d when d.Type.Element.IsInteger:
                fill = ElementCodec.ReadInteger(d.Data.Span, d.Type.Element);
                break;
            default: return null;
        }
        return ShapeValue.Of(Enumerable.Repeat(fill, (int)count), isScalar: shape.Count == 0);
    }
}
