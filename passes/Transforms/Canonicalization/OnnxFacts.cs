using Mopt.Ir;

namespace Mopt.Passes.Canonicalization;

/// <summary>
/// What the local rewrites (canonicalize, fuse-pad, fuse-matmul-add, reorder-slices) need to know about ONNX
/// operations: attribute lists, optional operands, constant operands, Slice parameters, and how to replace an
/// operation without losing names.
/// </summary>
public static class OnnxFacts
{
    /// <summary>The opset a module without <c>onnx.opset</c> is written with (the ONNX exporter's default).</summary>
    public const long DefaultOpset = 17;

    /// <summary>Constants larger than this are not read by the rewrites (they only need small parameter tensors).</summary>
    public const long MaxParameterElements = 1 << 16;

    /// <summary>The default-domain opset of the module: <c>onnx.opset</c>, else the exporter's default.</summary>
    public static long Opset(MirModule module)
    {
        if (module.Op.GetInt("onnx.opset") is long v) return v;
        if (module.Op.GetAttr("onnx.opset_import") is DictionaryAttr d && (d.Get("") ?? d.Get("ai.onnx")) is IntegerAttr i) return i.Value;
        return DefaultOpset;
    }

    /// <summary>An integer-list attribute (<c>[1, 2]</c> or <c>array&lt;i64: 1, 2&gt;</c>), or null when absent or not integers.</summary>
    public static long[]? Ints(Operation op, string name) => op.GetAttr(name) switch
    {
        ArrayAttr a when a.Elements.All(e => e is IntegerAttr) => a.Elements.Select(e => ((IntegerAttr)e).Value).ToArray(),
        DenseArrayAttr d when !d.Type.IsFloat => d.Ints.ToArray(),
        _ => null,
    };

    /// <summary>True for the value of <c>onnx.NoValue</c>: a missing optional input.</summary>
    public static bool IsAbsent(Value v) => v.Type == ElementType.None;

    /// <summary>Operand <paramref name="index"/> when it is given (present and not <c>onnx.NoValue</c>).</summary>
    public static Value? Optional(Operation op, int index) =>
        index < op.OperandCount && !IsAbsent(op.GetOperand(index)) ? op.GetOperand(index) : null;

    public static IReadOnlyList<long>? ShapeOf(Value v) => (v.Type as TensorType)?.Shape;

    /// <summary>The constant integers of <paramref name="v"/> (any integer or bool element type), or null.</summary>
    public static long[]? ConstInts(Value v, MirModule module) =>
        Constants.TryGet(v, module, MaxParameterElements) is { } c && c.Type.Element.IsInteger ? c.ToInt64s() : null;

    /// <summary>The constant elements of <paramref name="v"/> as doubles (floats, integers, bools), or null.</summary>
    public static double[]? ConstDoubles(Value v, MirModule module)
    {
        if (Constants.TryGet(v, module, MaxParameterElements) is not { } c) return null;
        var elem = c.Type.Element;
        if (!elem.IsFloat && !elem.IsInteger) return null;
        int size = elem.ByteSize;
        var result = new double[c.ElementCount];
        for (int i = 0; i < result.Length; i++)
        {
            var slot = c.Bytes.Span.Slice(i * size, size);
            result[i] = elem.IsFloat ? ElementCodec.ReadFloat(slot, elem) : ElementCodec.ReadInteger(slot, elem);
        }
        return result;
    }

    /// <summary>True when <paramref name="user"/> is the only reader of <paramref name="v"/> (and reads it once).</summary>
    public static bool OnlyUser(Value v, Operation user) => v.Uses.Count == 1 && v.Uses[0].Owner == user;

    /// <summary>The operation defining <paramref name="v"/> when it is named <paramref name="name"/>.</summary>
    public static Operation? Producer(Value v, string name) => v is OpResult { Owner: var op } && op.Name == name ? op : null;

    /// <summary>
    /// Points every use of <paramref name="op"/>'s single result at <paramref name="replacement"/> and erases it. The
    /// graph output names stay: they are the function's result attributes, not the value's.
    /// </summary>
    public static void ReplaceAndErase(Operation op, Value replacement)
    {
        op.Results[0].ReplaceAllUsesWith(replacement);
        EraseWithParameters(op);
    }

    /// <summary>
    /// Erases <paramref name="op"/> (its results must be unused), then the constants and <c>onnx.NoValue</c>s it read
    /// that nothing else reads (its shape, pads, ratio...), so a rewrite leaves no dead parameters behind.
    /// </summary>
    public static void EraseWithParameters(Operation op)
    {
        var parameters = op.Operands.OfType<OpResult>().Select(r => r.Owner)
            .Where(o => o.Name is Constants.ConstantOp or "onnx.NoValue").Distinct().ToList();
        op.Erase();
        foreach (var p in parameters) EraseIfUnused(p);
    }

    /// <summary>Erases <paramref name="op"/> if nothing reads it any more.</summary>
    public static void EraseIfUnused(Operation op)
    {
        if (op.Parent is not null && op.IsUnused) op.Erase();
    }

    /// <summary>
    /// A copy of <paramref name="op"/> at the builder with other operands and result types: same name and attributes
    /// (<c>mo.outputs</c>, the result tensor names, only when <paramref name="keepOutputNames"/>).
    /// </summary>
    public static Operation CloneWith(OpBuilder builder, Operation op, IEnumerable<Value> operands, IEnumerable<MirType> resultTypes,
        Location location, bool keepOutputNames)
    {
        var attrs = op.Attributes.Where(a => keepOutputNames || a.Name != "mo.outputs").ToList();
        return builder.Create(op.Name, operands, resultTypes, attrs, location);
    }

    /// <summary>A tensor type with <paramref name="shape"/> (null: unranked) and <paramref name="element"/>.</summary>
    public static TensorType WithShape(ElementType element, IReadOnlyList<long>? shape) => new(element, shape);

    /// <summary>Axis <paramref name="axis"/> made non-negative for rank <paramref name="rank"/>, or null when out of range.</summary>
    public static long? NormalizeAxis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? a : null;
    }

    /// <summary>The ONNX TensorProto data type code of an element type (Cast's <c>to</c>), or null.</summary>
    public static long? DataTypeCode(ElementType e) => Mopt.Dialects.Onnx.OnnxDataTypes.DataTypeOf(e);

    public static string Dims(IReadOnlyList<long> values) => "[" + string.Join(", ", values) + "]";
}
