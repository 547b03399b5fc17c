using Google.Protobuf;
using Mopt.Ir;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// A cursor over a message's wire bytes. The bytes are always well-formed: protobuf's own encoding of a parsed
/// message (ToByteArray), or a prototxt's text as the transcoder wrote it through the schema; reading them in place
/// spares CodedInputStream's copies of every nested message and packed run (a per-layer cost of the import).
/// </summary>
internal ref struct CaffeWireReader(ReadOnlySpan<byte> bytes)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    public int Position { get; private set; }
    public readonly bool AtEnd => Position >= _bytes.Length;

    public uint Tag() => (uint)Varint();

    public ulong Varint()
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift >= 64) throw new MirException("malformed message bytes: a varint longer than 10 bytes");
            byte b = _bytes[Position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
    }

    public uint Fixed32()
    {
        uint value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_bytes.Slice(Position, 4));
        Position += 4;
        return value;
    }

    public ulong Fixed64()
    {
        ulong value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_bytes.Slice(Position, 8));
        Position += 8;
        return value;
    }

    public ReadOnlySpan<byte> LengthDelimited()
    {
        int length = checked((int)Varint());
        var value = _bytes.Slice(Position, length);
        Position += length;
        return value;
    }

    public void Skip(int count) => Position += count;

    public void Skip(WireFormat.WireType wire)
    {
        switch (wire)
        {
            case WireFormat.WireType.Varint: Varint(); break;
            case WireFormat.WireType.Fixed64: Position += 8; break;
            case WireFormat.WireType.LengthDelimited: LengthDelimited(); break;
            case WireFormat.WireType.Fixed32: Position += 4; break;
            case WireFormat.WireType.StartGroup: SkipGroup(); break;
            default: throw new MirException($"malformed message bytes: unexpected wire type {wire}");
        }
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
}
