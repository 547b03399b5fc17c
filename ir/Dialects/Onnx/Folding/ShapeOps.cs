using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

/// <summary>
/// Shape, Size, and the operations that only relabel a tensor's shape (Reshape, Flatten, Squeeze, Unsqueeze,
/// Identity) or repeat it (Expand). The relabelling ones keep the input's bytes as they are.
/// </summary>
internal static class ShapeOps
{
    /// <summary>
    /// Shape (with opset 15's start/end): needs only the input's type, so it folds on a non-constant input too, as long
    /// as every dimension it returns is static; null otherwise.
    /// </summary>
    public static ConstantTensor? ShapeOfType(Operation shapeOp) => ShapeDims(shapeOp) is { } dims ? Int64Vector(dims) : null;

    /// <summary>The dimensions Shape returns (after start/end), or null when the input is unranked; a dynamic one is -1.</summary>
    public static long[]? ShapeDimsOrDynamic(Operation shapeOp)
    {
        if (shapeOp.OperandCount < 1 || shapeOp.GetOperand(0).Type is not TensorType { Shape: { } shape }) return null;
        int rank = shape.Count;
        long start = Clamp(shapeOp.GetInt("start") ?? 0, rank);
        long end = Clamp(shapeOp.GetInt("end") ?? rank, rank);
        return end <= start ? [] : shape.Skip((int)start).Take((int)(end - start)).ToArray();

        static long Clamp(long v, int rank) => Math.Clamp(v < 0 ? v + rank : v, 0, rank);
    }

    private static long[]? ShapeDims(Operation shapeOp) =>
        ShapeDimsOrDynamic(shapeOp) is { } dims && dims.All(d => d >= 0) ? dims : null;

    /// <summary>Size: the input's element count when its shape is static, null otherwise.</summary>
    public static ConstantTensor? SizeOfType(Operation sizeOp) =>
        sizeOp.OperandCount > 0 && sizeOp.GetOperand(0).Type is TensorType { ElementCount: long n }
            ? new ConstantTensor(new TensorType(ElementType.I64, []), BitConverter.GetBytes(n))
            : null;

    public static ConstantTensor Int64Vector(IReadOnlyList<long> values)
    {
        var bytes = new byte[values.Count * 8];
        for (int i = 0; i < values.Count; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 8), values[i]);
        return new ConstantTensor(new TensorType(ElementType.I64, [values.Count]), bytes);
    }

    public static ConstantTensor Identity(FoldRequest r) => r.Input(0);

    public static ConstantTensor Reshape(FoldRequest r)
    {
        var data = r.Input(0);
        long[] requested = r.Optional(1) is { } s ? Tensors.Longs(s, "the shape") : r.Ints("shape") ?? throw new FoldException("no shape given");
        bool allowZero = r.Int("allowzero", 0) != 0;
        var inShape = Tensors.ShapeOf(data);
        var outShape = new long[requested.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < requested.Length; i++)
        {
            long d = requested[i];
            if (d == 0 && !allowZero)
            {
                if (i >= inShape.Length) throw new FoldException($"shape[{i}] = 0 copies a dimension the input does not have");
                d = inShape[i];
            }
            if (d == -1)
            {
                if (inferred >= 0) throw new FoldException("the shape has more than one -1");
                inferred = i;
                continue;
            }
            if (d < 0) throw new FoldException($"shape[{i}] = {d} is negative");
            outShape[i] = d;
            known = checked(known * d);
        }
        long total = data.ElementCount;
        if (inferred >= 0)
        {
            if (known == 0 || total % known != 0) throw new FoldException($"cannot infer the -1 of shape [{string.Join(", ", requested)}] for {total} elements");
            outShape[inferred] = total / known;
        }
        else if (known != total) throw new FoldException($"shape [{string.Join(", ", outShape)}] does not hold {total} elements");
        return Relabel(data, outShape);
    }

    public static ConstantTensor Flatten(FoldRequest r)
    {
        var data = r.Input(0);
        var shape = Tensors.ShapeOf(data);
        long axis = r.Int("axis", 1);
        if (axis < 0) axis += shape.Length;
        if (axis < 0 || axis > shape.Length) throw new FoldException($"axis {r.Int("axis", 1)} is out of range for rank {shape.Length}");
        long outer = Tensors.Count(shape[..(int)axis]);
        return Relabel(data, [outer, Tensors.Count(shape[(int)axis..])]);
    }

    public static ConstantTensor Unsqueeze(FoldRequest r)
    {
        var data = r.Input(0);
        var axes = AxesOf(r) ?? throw new FoldException("Unsqueeze needs axes");
        var inShape = Tensors.ShapeOf(data);
        int rank = inShape.Length + axes.Length;
        var inserted = new bool[rank];
        foreach (var a in axes)
        {
            int axis = Tensors.Axis(a, rank);
            if (inserted[axis]) throw new FoldException($"axis {a} is repeated");
            inserted[axis] = true;
        }
        var outShape = new long[rank];
        for (int i = 0, k = 0; i < rank; i++) outShape[i] = inserted[i] ? 1 : inShape[k++];
        return Relabel(data, outShape);
    }

    public static ConstantTensor Squeeze(FoldRequest r)
    {
        var data = r.Input(0);
        var inShape = Tensors.ShapeOf(data);
        var axes = AxesOf(r);
        var removed = new bool[inShape.Length];
        if (axes is null)
            for (int i = 0; i < inShape.Length; i++) removed[i] = inShape[i] == 1;
        else
            foreach (var a in axes)
            {
                int axis = Tensors.Axis(a, inShape.Length);
                if (inShape[axis] != 1) throw new FoldException($"cannot squeeze axis {a} of size {inShape[axis]}");
                removed[axis] = true;
            }
        return Relabel(data, inShape.Where((_, i) => !removed[i]).ToArray());
    }

    /// <summary>Axes from the attribute (before opset 13) or the optional second input.</summary>
    private static long[]? AxesOf(FoldRequest r) =>
        r.Ints("axes") ?? (r.Optional(1) is { } t ? Tensors.Longs(t, "the axes") : null);

    public static ConstantTensor Expand(FoldRequest r)
    {
        var data = r.Input(0);
        var shape = Tensors.Broadcast([Tensors.ShapeOf(data), Tensors.Longs(r.Input(1), "the shape")]);
        return Broadcast(r, data, shape);
    }

    /// <summary>The input repeated to <paramref name="shape"/> (which it must broadcast to).</summary>
    public static ConstantTensor Broadcast(FoldRequest r, ConstantTensor data, long[] shape)
    {
        var element = data.Type.Element;
        var (type, bytes) = r.Allocate(element, shape);
        var indexer = new Tensors.BroadcastIndexer(Tensors.ShapeOf(data), shape);
        int size = element.ByteSize;
        long n = Tensors.Count(shape);
        var src = data.Bytes.Span;
        for (long i = 0; i < n; i++)
            src.Slice((int)(indexer.Map(i) * size), size).CopyTo(bytes.AsSpan((int)(i * size), size));
        return new ConstantTensor(type, bytes);
    }

    private static ConstantTensor Relabel(ConstantTensor data, long[] shape) => new(new TensorType(data.Type.Element, shape), data.Bytes);
}
