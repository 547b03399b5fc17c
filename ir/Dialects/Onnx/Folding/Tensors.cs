using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

/// <summary>
/// One element read from a tensor: <see cref="F"/> for float types (exact as a double), <see cref="I"/> for
/// integers and bools (sign-extended for signless types, zero-extended for unsigned ones; ui64 keeps its bits).
/// </summary>
internal readonly record struct Scalar(double F, long I)
{
    public static Scalar Float(double v) => new(v, 0);
    public static Scalar Int(long v) => new(0, v);
    public static Scalar Bool(bool v) => new(0, v ? 1 : 0);
    public bool IsTrue => I != 0;
}

/// <summary>How the arithmetic treats an element type.</summary>
internal enum NumKind { Float, Signed, Unsigned, Bool }

/// <summary>Shapes, strides, element access and broadcasting over <see cref="ConstantTensor"/>s.</summary>
internal static class Tensors
{
    public static long Count(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (var d in shape) n = checked(n * d);
        return n;
    }

    public static long[] ShapeOf(ConstantTensor t) => t.Type.Shape!.ToArray();

    /// <summary>Row-major strides in elements.</summary>
    public static long[] Strides(IReadOnlyList<long> shape)
    {
        var s = new long[shape.Count];
        long at = 1;
        for (int i = shape.Count - 1; i >= 0; i--) { s[i] = at; at *= shape[i]; }
        return s;
    }

    public static NumKind KindOf(ElementType e) =>
        e.IsFloat ? NumKind.Float : e.IsBool ? NumKind.Bool : e.Kind == ElementKind.UnsignedInt ? NumKind.Unsigned : NumKind.Signed;

    public static Scalar Read(ConstantTensor t, long index)
    {
        var e = t.Type.Element;
        int size = e.ByteSize;
        var slot = t.Bytes.Span.Slice(checked((int)(index * size)), size);
        return e.IsFloat ? Scalar.Float(ElementCodec.ReadFloat(slot, e)) : Scalar.Int(ElementCodec.ReadInteger(slot, e));
    }

    public static void Write(byte[] bytes, ElementType e, long index, Scalar value)
    {
        int size = e.ByteSize;
        var slot = bytes.AsSpan(checked((int)(index * size)), size);
        if (e.IsFloat) ElementCodec.WriteFloat(slot, e, value.F);
        else if (e.IsBool) slot[0] = value.I != 0 ? (byte)1 : (byte)0;
        else ElementCodec.WriteInteger(slot, e, value.I);
    }

    /// <summary>The elements of an integer tensor (indices, shapes, axes).</summary>
    public static long[] Longs(ConstantTensor t, string what)
    {
        if (!t.Type.Element.IsInteger || t.Type.Element.IsBool)
            throw FoldException.Unsupported($"{what} is {t.Type.Element}, not an integer tensor");
        return t.ToInt64s();
    }

    /// <summary>An axis in [0, rank), from one that may count from the end.</summary>
    public static int Axis(long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new FoldException($"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }

    /// <summary>Numpy-style (multidirectional) broadcast of the shapes.</summary>
    public static long[] Broadcast(IEnumerable<IReadOnlyList<long>> shapes)
    {
        var list = shapes.ToList();
        int rank = list.Max(s => s.Count);
        var result = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long dim = 1;
            foreach (var s in list)
            {
                int k = i - (rank - s.Count);
                if (k < 0) continue;
                long d = s[k];
                if (d == dim || d == 1) continue;
                if (dim == 1) { dim = d; continue; }
                throw new FoldException($"shapes ({string.Join(", ", list.Select(x => "[" + string.Join(",", x) + "]"))}) do not broadcast");
            }
            result[i] = dim;
        }
        return result;
    }

    /// <summary>Maps an index into the broadcast result to the index of the element read from an input of <paramref name="inShape"/>.</summary>
    public sealed class BroadcastIndexer
    {
        private readonly long[] _outDims;
        private readonly long[] _inStrides;
        public bool Identity { get; }

        public BroadcastIndexer(IReadOnlyList<long> inShape, IReadOnlyList<long> outShape)
        {
            int rank = outShape.Count;
            _outDims = outShape.ToArray();
            _inStrides = new long[rank];
            var strides = Strides(inShape);
            for (int i = 0; i < rank; i++)
            {
                int k = i - (rank - inShape.Count);
                _inStrides[i] = k < 0 || inShape[k] == 1 && outShape[i] != 1 ? 0 : strides[k];
            }
            Identity = inShape.Count == rank && inShape.SequenceEqual(outShape);
        }

        public long Map(long index)
        {
            if (Identity) return index;
            long offset = 0;
            for (int d = _outDims.Length - 1; d >= 0 && index > 0; d--)
            {
                long dim = _outDims[d];
                offset += index % dim * _inStrides[d];
                index /= dim;
            }
            return offset;
        }
    }

    /// <summary>
    /// Broadcasts the inputs against each other and computes each element of the result with <paramref name="f"/>
    /// (given one scalar per input).
    /// </summary>
    public static ConstantTensor Map(FoldRequest r, IReadOnlyList<ConstantTensor> inputs, ElementType result, Func<Scalar[], Scalar> f)
    {
        var shape = Broadcast(inputs.Select(ShapeOf));
        var (type, bytes) = r.Allocate(result, shape);
        var indexers = inputs.Select(t => new BroadcastIndexer(ShapeOf(t), shape)).ToArray();
        var args = new Scalar[inputs.Count];
        long n = Count(shape);
        for (long i = 0; i < n; i++)
        {
            for (int k = 0; k < args.Length; k++) args[k] = Read(inputs[k], indexers[k].Map(i));
            Write(bytes, result, i, f(args));
        }
        return new ConstantTensor(type, bytes);
    }
}
