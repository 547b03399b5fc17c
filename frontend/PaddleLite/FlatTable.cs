using System.Buffers.Binary;
using System.Text;

namespace Mopt.Frontend.PaddleLite;

/// <summary>
/// A table of a flatbuffer that <see cref="FlatBufferVerifier"/> has checked, read by slot (declaration order in the
/// .fbs): whether a field is present (flatc's C# accessors only give defaults, and a .nb keeps a LoD level or an
/// is_target only where it was set), its scalar, string, child table or vector. Positions are in the array.
/// </summary>
public readonly struct FlatTable(byte[] bytes, int position)
{
    /// <summary>The root table of the buffer that starts at <paramref name="start"/>.</summary>
    public static FlatTable Root(byte[] bytes, int start) => new(bytes, start + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(start)));

    private int FieldPos(int slot)
    {
        int vtable = position - BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
        int entry = 4 + 2 * slot;
        if (entry + 2 > BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(vtable))) return 0;
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(vtable + entry));
        return offset == 0 ? 0 : position + offset;
    }

    private int Indirect(int slot)
    {
        int pos = FieldPos(slot);
        return pos == 0 ? 0 : pos + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(pos));
    }

    public bool Has(int slot) => FieldPos(slot) != 0;

    public int Int32(int slot) => FieldPos(slot) is var p and not 0 ? BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(p)) : 0;
    public long Int64(int slot) => FieldPos(slot) is var p and not 0 ? BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(p)) : 0;
    public float Float32(int slot) => FieldPos(slot) is var p and not 0 ? BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(p)) : 0;
    public double Float64(int slot) => FieldPos(slot) is var p and not 0 ? BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(p)) : 0;
    public byte UInt8(int slot) => FieldPos(slot) is var p and not 0 ? bytes[p] : (byte)0;
    public bool Bool(int slot) => UInt8(slot) != 0;

    public string? String(int slot) => Indirect(slot) is var p and not 0 ? StringAt(bytes, p) : null;

    public FlatTable? Table(int slot) => Indirect(slot) is var p and not 0 ? new FlatTable(bytes, p) : null;

    /// <summary>The vector in <paramref name="slot"/>; empty when absent.</summary>
    public FlatVector Vector(int slot) =>
        Indirect(slot) is var p and not 0 ? new FlatVector(bytes, p + 4, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(p))) : new FlatVector(bytes, 0, 0);

    internal static string StringAt(byte[] bytes, int pos) =>
        Encoding.UTF8.GetString(bytes, pos + 4, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(pos)));
}
