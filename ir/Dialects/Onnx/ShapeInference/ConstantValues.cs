using Mopt.Ir;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// Reads the numbers a constant holds: <c>onnx.Constant</c>'s opset-12 forms <c>value_int</c>, <c>value_ints</c>,
/// <c>value_float</c>, <c>value_floats</c> as written, else the value its definition gives (<see cref="IConstantLike"/>:
/// <c>dense&lt;...&gt;</c> or <c>dense_resource&lt;key&gt;</c>, bytes from the module's resource table).
/// </summary>
public static class ConstantValues
{
    /// <summary>The type of the tensor a constant defines, or null when its attributes do not say.</summary>
    public static TensorType? TypeOf(Operation constant)
    {
        switch (constant.GetAttr("value"))
        {
            case DenseElementsAttr d: return d.Type;
            case DenseResourceAttr r: return r.Type;
        }
        if (constant.GetAttr("value_int") is IntegerAttr) return new TensorType(ElementType.I64, []);
        if (constant.GetAttr("value_float") is FloatAttr or IntegerAttr) return new TensorType(ElementType.F32, []);
        if (AttrInts(constant.GetAttr("value_ints")) is { } ints) return new TensorType(ElementType.I64, [ints.Length]);
        if (AttrFloats(constant.GetAttr("value_floats")) is { } floats) return new TensorType(ElementType.F32, [floats.Length]);
        return null;
    }

    /// <summary>The tensor a constant-like operation holds (a splat expanded), or null when not available or too large.</summary>
    private static ConstantTensor? Read(Operation constant, DialectRegistry dialects, ResourceTable resources, long maxElements) =>
        Constants.TryGet(Constants.ValueAttribute(constant, dialects), resources, maxElements);

    /// <summary>The elements as integers (integer and bool element types only), or null.</summary>
    public static long[]? ReadInts(Operation constant, DialectRegistry dialects, ResourceTable resources, long maxElements)
    {
        if (constant.GetAttr("value_int") is IntegerAttr i) return [i.Value];
        if (AttrInts(constant.GetAttr("value_ints")) is { } ints) return ints;
        if (Read(constant, dialects, resources, maxElements) is not { Type: var type } tensor || !type.Element.IsInteger) return null;
        if (type.Element.IsPacked) return tensor.ToInt64s();
        var bytes = tensor.Bytes.Span;
        int size = type.Element.ByteSize;
        var result = new long[bytes.Length / size];
        for (int k = 0; k < result.Length; k++) result[k] = ElementCodec.ReadInteger(bytes.Slice(k * size, size), type.Element);
        return result;
    }

    /// <summary>The elements as doubles (float, integer and bool element types), or null.</summary>
    public static double[]? ReadFloats(Operation constant, DialectRegistry dialects, ResourceTable resources, long maxElements)
    {
        if (constant.GetAttr("value_float") is { } f && AttrFloat(f) is double v) return [v];
        if (AttrFloats(constant.GetAttr("value_floats")) is { } floats) return floats;
        if (constant.GetAttr("value_int") is not null || constant.GetAttr("value_ints") is not null)
            return ReadInts(constant, dialects, resources, maxElements)?.Select(x => (double)x).ToArray();
        if (Read(constant, dialects, resources, maxElements) is not { Type: var type } tensor) return null;
        if (type.Element.IsInteger) return ReadInts(constant, dialects, resources, maxElements)?.Select(x => (double)x).ToArray();
        if (!type.Element.IsFloat) return null;
        var bytes = tensor.Bytes.Span;
        int size = type.Element.ByteSize;
        var result = new double[bytes.Length / size];
        for (int k = 0; k < result.Length; k++) result[k] = ElementCodec.ReadFloat(bytes.Slice(k * size, size), type.Element);
        return result;
    }

    /// <summary><c>[1, 2]</c> or <c>array&lt;i64: 1, 2&gt;</c> as longs.</summary>
    public static long[]? AttrInts(Attr? attr) => attr switch
    {
        ArrayAttr a when a.Elements.All(e => e is IntegerAttr) => a.Elements.Select(e => ((IntegerAttr)e).Value).ToArray(),
        DenseArrayAttr d when !d.Type.IsFloat => d.Ints.ToArray(),
        DenseElementsAttr d when d.Type.Element.IsInteger && d.Type.Rank <= 1 => ReadDenseInts(d),
        _ => null,
    };

    /// <summary><c>[1.0, 2.0]</c> or <c>array&lt;f32: 1.0, 2.0&gt;</c> as doubles (integers accepted).</summary>
    public static double[]? AttrFloats(Attr? attr) => attr switch
    {
        ArrayAttr a when a.Elements.All(e => AttrFloat(e) is not null) => a.Elements.Select(e => AttrFloat(e)!.Value).ToArray(),
        DenseArrayAttr d => d.Type.IsFloat ? d.Floats.ToArray() : d.Ints.Select(x => (double)x).ToArray(),
        _ => null,
    };

    private static double? AttrFloat(Attr a) => a switch { FloatAttr f => f.Value, IntegerAttr i => i.Value, _ => null };

    private static long[]? ReadDenseInts(DenseElementsAttr d)
    {
        if (d.Type.ElementCount is not long n || n > ShapeContext.MaxConstantElements) return null;
        var bytes = d.ToFullBytes();
        if (d.Type.Element.IsPacked) return new ConstantTensor(d.Type, bytes).ToInt64s();
        int size = d.Type.Element.ByteSize;
        var result = new long[n];
        for (int k = 0; k < n; k++) result[k] = ElementCodec.ReadInteger(bytes.AsSpan(k * size, size), d.Type.Element);
        return result;
    }
}
