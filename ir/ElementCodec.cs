using System.Buffers.Binary;

namespace Mopt.Ir;

/// <summary>Reads and writes one element of a tensor's little-endian bytes, for every element type.</summary>
public static class ElementCodec
{
    /// <summary>Float values as the little-endian bytes of a float tensor of <paramref name="type"/> (f16, bf16, f32, f64).</summary>
    public static byte[] EncodeFloats(ReadOnlySpan<float> values, ElementType type)
    {
        if (type == ElementType.F32) return System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray();
        int size = type.ByteSize;
        var bytes = GC.AllocateUninitializedArray<byte>(values.Length * size);
        for (int i = 0; i < values.Length; i++) WriteFloat(bytes.AsSpan(i * size, size), type, values[i]);
        return bytes;
    }

    /// <summary>Double values as the bytes of a float tensor of <paramref name="type"/> (each rounded once, to that type).</summary>
    public static byte[] EncodeFloats(ReadOnlySpan<double> values, ElementType type)
    {
        var bytes = GC.AllocateUninitializedArray<byte>(values.Length * type.ByteSize);
        EncodeFloats(values, type, bytes);
        return bytes;
    }

    /// <summary>
    /// <see cref="EncodeFloats(ReadOnlySpan{double}, ElementType)"/> into <paramref name="into"/>, which holds exactly
    /// their bytes (memory the caller chose: a module's for new weights, <c>Constants.EncodeFloats</c>).
    /// </summary>
    public static void EncodeFloats(ReadOnlySpan<double> values, ElementType type, Span<byte> into)
    {
        int size = type.ByteSize;
        if (into.Length != values.Length * size) throw new ArgumentException($"{into.Length} bytes do not hold {values.Length} {type} values");
        if (type == ElementType.F32)
        {
            var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(into);
            for (int i = 0; i < values.Length; i++) floats[i] = (float)values[i];
            return;
        }
        for (int i = 0; i < values.Length; i++) WriteFloat(into.Slice(i * size, size), type, values[i]);
    }

    public static void WriteFloat(Span<byte> dest, ElementType type, double value)
    {
        switch (type.Name)
        {
            case "f64": BinaryPrimitives.WriteDoubleLittleEndian(dest, value); break;
            case "f32": BinaryPrimitives.WriteSingleLittleEndian(dest, (float)value); break;
            case "f16": BinaryPrimitives.WriteHalfLittleEndian(dest, (Half)value); break;
            case "bf16": BinaryPrimitives.WriteUInt16LittleEndian(dest, ToBFloat16((float)value)); break;
            default: throw new ArgumentException($"{type} is not a float type");
        }
    }

    public static double ReadFloat(ReadOnlySpan<byte> src, ElementType type) => type.Name switch
    {
        "f64" => BinaryPrimitives.ReadDoubleLittleEndian(src),
        "f32" => BinaryPrimitives.ReadSingleLittleEndian(src),
        "f16" => (double)BinaryPrimitives.ReadHalfLittleEndian(src),
        "bf16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src) << 16),
        _ => throw new ArgumentException($"{type} is not a float type"),
    };

    public static void WriteInteger(Span<byte> dest, ElementType type, long value)
    {
        switch (type.ByteSize)
        {
            case 1: dest[0] = unchecked((byte)value); break;
            case 2: BinaryPrimitives.WriteInt16LittleEndian(dest, unchecked((short)value)); break;
            case 4: BinaryPrimitives.WriteInt32LittleEndian(dest, unchecked((int)value)); break;
            default: BinaryPrimitives.WriteInt64LittleEndian(dest, value); break;
        }
    }

    /// <summary>The element as a long: sign-extended for signless types, zero-extended for unsigned ones.</summary>
    public static long ReadInteger(ReadOnlySpan<byte> src, ElementType type)
    {
        bool unsigned = type.Kind == ElementKind.UnsignedInt || type.IsBool;
        return type.ByteSize switch
        {
            1 => unsigned ? src[0] : (sbyte)src[0],
            2 => unsigned ? BinaryPrimitives.ReadUInt16LittleEndian(src) : BinaryPrimitives.ReadInt16LittleEndian(src),
            4 => unsigned ? BinaryPrimitives.ReadUInt32LittleEndian(src) : BinaryPrimitives.ReadInt32LittleEndian(src),
            _ => BinaryPrimitives.ReadInt64LittleEndian(src),
        };
    }

    /// <summary>Element <paramref name="index"/> of packed i4/ui4 bytes: sign-extended for i4, zero-extended for ui4.</summary>
    public static long ReadPacked(ReadOnlySpan<byte> packed, long index, ElementType type)
    {
        int nibble = (packed[checked((int)(index >> 1))] >> (int)((index & 1) * 4)) & 0xF;
        return type.Kind == ElementKind.UnsignedInt ? nibble : (nibble ^ 8) - 8;
    }

    /// <summary>Sets element <paramref name="index"/> of packed i4/ui4 bytes to the low four bits of <paramref name="value"/>.</summary>
    public static void WritePacked(Span<byte> packed, long index, long value)
    {
        int shift = (int)(index & 1) * 4;
        ref byte b = ref packed[checked((int)(index >> 1))];
        b = (byte)((b & ~(0xF << shift)) | (((int)value & 0xF) << shift));
    }

    /// <summary>
    /// One byte per element (a value in its low four bits, as i8/ui8 hold them) packed two to a byte, the first in
    /// the low nibble; an odd count leaves the last byte's high nibble 0.
    /// </summary>
    public static byte[] Pack4(ReadOnlySpan<byte> unpacked)
    {
        var packed = new byte[(unpacked.Length + 1) / 2];
        for (int i = 0; i < unpacked.Length; i++) packed[i >> 1] |= (byte)((unpacked[i] & 0xF) << ((i & 1) * 4));
        return packed;
    }

    /// <summary><paramref name="count"/> packed i4/ui4 elements as one byte each (i4 sign-extended, as an i8 byte).</summary>
    public static byte[] Unpack4(ReadOnlySpan<byte> packed, long count, ElementType type)
    {
        var unpacked = new byte[count];
        for (long i = 0; i < count; i++) unpacked[i] = unchecked((byte)ReadPacked(packed, i, type));
        return unpacked;
    }

    /// <summary>The value stored by bits (how MLIR spells inf and nan: <c>0x7F800000 : f32</c>).</summary>
    public static double FloatFromBits(ElementType type, ulong bits) => type.Name switch
    {
        "f64" => BitConverter.UInt64BitsToDouble(bits),
        "f32" => BitConverter.Int32BitsToSingle(unchecked((int)(uint)bits)),
        "f16" => (double)BitConverter.UInt16BitsToHalf((ushort)bits),
        "bf16" => BitConverter.Int32BitsToSingle((int)((uint)(ushort)bits << 16)),
        _ => throw new ArgumentException($"{type} is not a float type"),
    };

    public static ulong BitsOf(ElementType type, double value) => type.Name switch
    {
        "f64" => BitConverter.DoubleToUInt64Bits(value),
        "f32" => BitConverter.SingleToUInt32Bits((float)value),
        "f16" => BitConverter.HalfToUInt16Bits((Half)value),
        "bf16" => ToBFloat16((float)value),
        _ => throw new ArgumentException($"{type} is not a float type"),
    };

    /// <summary>Rounds a double to the nearest value of <paramref name="type"/>.</summary>
    public static double RoundTo(ElementType type, double value) => type.Name switch
    {
        "f32" => (float)value,
        "f16" => (double)(Half)value,
        "bf16" => BitConverter.Int32BitsToSingle(ToBFloat16((float)value) << 16),
        _ => value,
    };

    public static bool FitsInteger(ElementType type, ulong magnitude, bool negative)
    {
        int bits = type.Kind == ElementKind.Index ? 64 : type.BitWidth;
        if (type.Kind == ElementKind.UnsignedInt) return !negative && (bits == 64 || magnitude < (1UL << bits));
        if (type.IsBool) return !negative && magnitude <= 1;
        // Signless: MLIR accepts both the signed and the unsigned range (e.g. 255 : i8).
        if (negative) return magnitude <= (1UL << (bits - 1));
        return bits == 64 || magnitude < (1UL << bits);
    }

    /// <summary>float → bfloat16, rounding to nearest even (nan stays nan).</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
