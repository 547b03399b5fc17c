using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>The value of a constant tensor: its type and little-endian bytes (a splat already expanded).</summary>
public sealed record ConstantTensor(TensorType Type, ReadOnlyMemory<byte> Bytes)
{
    public long ElementCount => Type.ElementCount ?? 0;

    /// <summary>The elements as floats (f32 without copying the bytes' meaning; f16/bf16/f64 converted).</summary>
    public float[] ToFloats()
    {
        var elem = Type.Element;
        if (elem == ElementType.F32) return MemoryMarshal.Cast<byte, float>(Bytes.Span).ToArray();
        var result = new float[ElementCount];
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
        int size = elem.ByteSize;
        for (int i = 0; i < result.Length; i++)
        {
            var slot = Bytes.Span.Slice(i * size, size);
            result[i] = elem.IsFloat ? (long)ElementCodec.ReadFloat(slot, elem) : ElementCodec.ReadInteger(slot, elem);
        }
        return result;
    }
}
