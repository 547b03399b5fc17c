using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>The value of a constant tensor: its type and little-endian bytes (a splat already expanded).</summary>
public sealed record ConstantTensor(TensorType Type, ReadOnlyMemory<byte> Bytes)
{
    public long ElementCount => Type.ElementCount ?? 0;

    /// <summary>
    /// The value a <c>dense</c> or <c>dense_resource</c> attribute holds (a blob's bytes in place, a splat expanded), or
    /// null: no static shape, more than <paramref name="maxElements"/> elements, or no blob of the right size.
    /// </summary>
    public static ConstantTensor? TryRead(Attr? attr, ResourceTable resources, long maxElements = long.MaxValue)
    {
        switch (attr)
        {
            case DenseElementsAttr dense when dense.Type.ElementCount is long n && n <= maxElements:
                return new ConstantTensor(dense.Type, dense.IsSplat ? dense.ToFullBytes() : dense.Data);
            case DenseResourceAttr res when res.Type.ElementCount is long n && n <= maxElements
                                            && resources.Get(res.Key) is { } blob && blob.Data.Length == res.Type.ByteSize:
                return new ConstantTensor(res.Type, blob.Data);
            default:
                return null;
        }
    }

    /// <summary>The elements as floats (f32 without copying the bytes' meaning; f16/bf16/f64 converted).</summary>
    public float[] ToFloats()
    {
        var elem = Type.Element;
        if (elem == ElementType.F32) return MemoryMarshal.Cast<byte, float>(Bytes.Span).ToArray();
        var result = new float[ElementCount];
        if (elem.IsPacked)
        {
            for (int i = 0; i < result.Length; i++) result[i] = ElementCodec.ReadPacked(Bytes.Span, i, elem);
            return result;
        }
        int size = elem.ByteSize;
        for (int i = 0; i < result.Length; i++)
        {
            var slot = Bytes.Span.Slice(i * size, size);
            result[i] = elem.IsFloat ? (float)ElementCodec.ReadFloat(slot, elem) : ElementCodec.ReadInteger(slot, elem);
        }
        return result;
    }

    /// <summary>The elements as 64-bit integers (integer and bool types; floats truncated toward zero).</summary>
    public long[] ToInt64s()
    {
        var elem = Type.Element;
        if (elem == ElementType.I64) return MemoryMarshal.Cast<byte, long>(Bytes.Span).ToArray();
        var result = new long[ElementCount];
        if (elem.IsPacked)
        {
            for (int i = 0; i < result.Length; i++) result[i] = ElementCodec.ReadPacked(Bytes.Span, i, elem);
            return result;
        }
        int size = elem.ByteSize;
        for (int i = 0; i < result.Length; i++)
        {
            var slot = Bytes.Span.Slice(i * size, size);
            result[i] = elem.IsFloat ? (long)ElementCodec.ReadFloat(slot, elem) : ElementCodec.ReadInteger(slot, elem);
        }
        return result;
    }
}
