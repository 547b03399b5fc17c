using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Mopt.Protobuf;

/// <summary>
/// A cursor over a message's wire bytes, read in place: it spares CodedInputStream's copies of every nested message and
/// packed run (a per-layer cost of the Caffe import). Every read is checked against the end of the bytes: bytes that
/// are not a well-formed message (a truncated caffemodel) are a <see cref="MalformedWireException"/>, which the
/// caffemodel walk takes as its cue to leave the file to the generated parser and its errors, and
/// <see cref="CanonicalWire"/> as bytes to refuse; protobuf's own encodings and a prototxt's transcoded text, also read
/// here, never meet it.
/// </summary>
public ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _bytes;
    // Where _bytes start in the outermost bytes read (a nested message's reader knows its place in the file).
    private readonly int _offset;

    /// <param name="offset">Where <paramref name="bytes"/> start in the bytes <see cref="Offset"/> counts in.</param>
    public WireReader(ReadOnlySpan<byte> bytes, int offset = 0)
    {
        _bytes = bytes;
        _offset = offset;
    }

    public int Position { get; private set; }
    /// <summary>The position in the outermost bytes read (the file a nested reader's message is part of).</summary>
    public readonly int Offset => _offset + Position;
    public readonly bool AtEnd => Position >= _bytes.Length;

    /// <summary>A tag: a varint of 32 bits with a field number (protobuf refuses 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Tag()
    {
        // Most tags are one byte (fields 1-15): read in place, the rest by the loop.
        int at = Position;
        if ((uint)at < (uint)_bytes.Length && _bytes[at] is var b and < 0x80 and >= 8)
        {
            Position = at + 1;
            return b;
        }
        return LongTag();
    }

    private uint LongTag()
    {
        ulong tag = Varint();
        if (tag > uint.MaxValue || tag >> 3 == 0) throw Malformed("a tag of field number 0 or of more than 32 bits");
        return (uint)tag;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Varint()
    {
        // A one-byte varint (lengths and values under 128, most of a net's) read in place; longer ones by the loop.
        int at = Position;
        if ((uint)at < (uint)_bytes.Length && _bytes[at] is var b and < 0x80)
        {
            Position = at + 1;
            return b;
        }
        return LongVarint();
    }

    private ulong LongVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (Position >= _bytes.Length) throw Malformed("a varint cut off at the end");
            byte b = _bytes[Position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw Malformed("a varint longer than 10 bytes");
    }

    public uint Fixed32() => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong Fixed64() => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public ReadOnlySpan<byte> LengthDelimited()
    {
        ulong length = Varint();
        if (length > (ulong)(_bytes.Length - Position)) throw Malformed("a length past the end");
        return Take((int)length);
    }

    /// <summary>A reader of the length-delimited (message) field at the position, which it skips.</summary>
    public WireReader Nested()
    {
        var bytes = LengthDelimited();
        return new WireReader(bytes, Offset - bytes.Length);
    }

    public void Skip(WireFormat.WireType wire)
    {
        switch (wire)
        {
            case WireFormat.WireType.Varint: Varint(); break;
            case WireFormat.WireType.Fixed64: Take(8); break;
            case WireFormat.WireType.LengthDelimited: LengthDelimited(); break;
            case WireFormat.WireType.Fixed32: Take(4); break;
            case WireFormat.WireType.StartGroup: SkipGroup(); break;
            default: throw Malformed($"unexpected wire type {wire}");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_bytes.Length - Position < count) throw Malformed("a field cut off at the end");
        var value = _bytes.Slice(Position, count);
        Position += count;
        return value;
    }

    private void SkipGroup()
    {
        while (true)
        {
            var wire = WireFormat.GetTagWireType(Tag());
            if (wire == WireFormat.WireType.EndGroup) return;
            Skip(wire);
        }
    }

    private static MalformedWireException Malformed(string what) => new($"malformed message bytes: {what}");
}
