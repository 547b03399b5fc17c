using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>
/// What the local rewrites (canonicalize, fuse-pad, fuse-matmul-add, reorder-slices) need to know about ONNX
/// operations: optional operands, constant operands, producers and single users. Attributes are read with
/// <see cref="AttrReader"/>, the opset with <see cref="OnnxOpset"/>; replacing and erasing go through the rewriter.
/// </summary>
public static class OnnxFacts
{
    /// <summary>Constants larger than this are not read by the rewrites (they only need small parameter tensors).</summary>
    public const long MaxParameterElements = 1 << 16;

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
        if (elem.IsPacked) return c.ToInt64s().Select(x => (double)x).ToArray();
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

    /// <summary>A tensor type with <paramref name="shape"/> (null: unranked) and <paramref name="element"/>.</summary>
    public static TensorType WithShape(ElementType element, IReadOnlyList<long>? shape) => new(element, shape);

    /// <summary>Axis <paramref name="axis"/> made non-negative for rank <paramref name="rank"/>, or null when out of range.</summary>
    public static long? NormalizeAxis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? a : null;
    }

    public static string Dims(IReadOnlyList<long> values) => "[" + string.Join(", ", values) + "]";
}
