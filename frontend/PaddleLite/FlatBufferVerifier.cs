using System.Buffers.Binary;
using System.Text;
using Mopt.Ir;

namespace Mopt.Frontend.PaddleLite;

/// <summary>
/// Checks a finished flatbuffer against a table schema before anything reads it, with the rules of flatbuffers' C++
/// <c>Verifier</c> (the one Paddle-Lite runs on load): every offset aligned and inside the buffer and pointing forward,
/// every vtable inside the buffer, every scalar field aligned and inside, every vector's length within the buffer, every
/// string NUL-terminated, required fields present, at most 64 tables deep and 1,000,000 tables. Written here because
/// Google.FlatBuffers' C# Verifier (25.2.10) fails on any table more than 32 KB into a buffer (it narrows the vtable's
/// position to a short: flatbuffers issue 8937) and prints what it catches to standard output, and the generated
/// <c>VerifyProgramDesc(ByteBuffer)</c> throws for any buffer without a file identifier (a .nb's have none).
/// A failure names the path to the field (<c>blocks[0].ops[3] (conv2d).attrs[1] (strides).ints</c>) and what is wrong.
/// </summary>
public sealed class FlatBufferVerifier
{
    private const int MaxDepth = 64;
    private const int MaxTables = 1_000_000;

    private readonly byte[] _bytes;
    private readonly int _start;
    private readonly int _length;
    private readonly string _what;
    private readonly List<(string Field, int Index, long Table, FlatTableSchema? Schema)> _path = [];
    private int _depth;
    private int _tables;

    private FlatBufferVerifier(byte[] bytes, int start, int length, string what)
    {
        (_bytes, _start, _length, _what) = (bytes, start, length, what);
    }

    /// <summary>
    /// Checks the buffer <paramref name="bytes"/>[<paramref name="start"/>..+<paramref name="length"/>] whose root table is a
    /// <paramref name="root"/>; <paramref name="what"/> names it in errors (<c>model.nb: the program</c>).
    /// </summary>
    public static void Verify(byte[] bytes, int start, int length, FlatTableSchema root, string what)
    {
        var verifier = new FlatBufferVerifier(bytes, start, length, what);
        verifier.Table(verifier.Offset(0, $"the root offset of the {root.Name}"), root);
    }

    private ReadOnlySpan<byte> At(long pos) => _bytes.AsSpan(_start + (int)pos, _length - (int)pos);

    private bool Inside(long pos, long size) => pos >= 0 && size >= 0 && pos <= _length - size;

    private void Scalar(long pos, int size, string what)
    {
        if (!Inside(pos, size)) throw Fail($"{what} (bytes {pos}..{pos + size}) is outside the buffer of {_length} bytes");
        if ((pos & (size - 1)) != 0) throw Fail($"{what} at byte {pos} is not aligned to {size} bytes");
    }

    /// <summary>The position an unsigned offset stored at <paramref name="pos"/> points to: forward, inside the buffer.</summary>
    private long Offset(long pos, string what)
    {
        Scalar(pos, 4, what);
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(At(pos));
        if (offset == 0 || offset > int.MaxValue) throw Fail($"{what} at byte {pos} is {offset}, not an offset to anything");
        long target = pos + offset;
        if (!Inside(target, 1)) throw Fail($"{what} at byte {pos} points to byte {target}, past the end of the buffer of {_length} bytes");
        return target;
    }

    private void Table(long pos, FlatTableSchema schema)
    {
        if (++_depth > MaxDepth) throw Fail($"tables nest more than {MaxDepth} deep");
        if (++_tables > MaxTables) throw Fail($"more than {MaxTables} tables");
        Scalar(pos, 4, $"the {schema.Name} table's vtable offset");
        long vtable = pos - BinaryPrimitives.ReadInt32LittleEndian(At(pos));
        Scalar(vtable, 2, $"the {schema.Name} table's vtable");
        int vsize = BinaryPrimitives.ReadUInt16LittleEndian(At(vtable));
        if ((vsize & 1) != 0 || !Inside(vtable, vsize)) throw Fail($"the {schema.Name} table's vtable (byte {vtable}, {vsize} bytes) is odd-sized or runs past the buffer");
        foreach (var field in schema.Fields) Field(pos, vtable, vsize, field, schema);
        _depth--;
    }

    /// <summary>The field's position in the buffer, or -1 when the vtable leaves it out.</summary>
    private long FieldPos(long table, long vtable, int vsize, int slot)
    {
        int entry = 4 + 2 * slot;
        if (entry + 2 > vsize) return -1;
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(At(vtable + entry));
        return offset == 0 ? -1 : table + offset;
    }

    private void Field(long table, long vtable, int vsize, FlatField field, FlatTableSchema schema)
    {
        long pos = FieldPos(table, vtable, vsize, field.Slot);
        if (pos < 0)
        {
            if (field.Required) throw Fail($"{schema.Name}.{field.Name} is required and missing");
            return;
        }
        _path.Add((field.Name, -1, table, schema));
        string what = $"{schema.Name}.{field.Name}";
        switch (field.Kind)
        {
            case FlatFieldKind.Scalar:
                Scalar(pos, field.Size, what);
                break;
            case FlatFieldKind.String:
                String(Offset(pos, what), what);
                break;
            case FlatFieldKind.Table:
                Table(Offset(pos, what), field.Table!);
                break;
            case FlatFieldKind.ScalarVector:
                Vector(Offset(pos, what), field.Size, what);
                break;
            case FlatFieldKind.StringVector:
            case FlatFieldKind.TableVector:
            {
                long vector = Offset(pos, what);
                int count = Vector(vector, 4, what);
                for (int i = 0; i < count; i++)
                {
                    long element = vector + 4 + 4L * i;
                    long target = element + BinaryPrimitives.ReadUInt32LittleEndian(At(element));
                    _path[^1] = (field.Name, i, table, schema);
                    if (field.Kind == FlatFieldKind.StringVector) String(target, $"{what}[{i}]");
                    else
                    {
                        _path.Add(("", -2, target, field.Table));
                        Table(target, field.Table!);
                        _path.RemoveAt(_path.Count - 1);
                    }
                }
                break;
            }
            case FlatFieldKind.Union:
            {
                Scalar(pos, 1, what + "_type");
                byte type = At(pos)[0];
                long value = FieldPos(table, vtable, vsize, field.Slot + 1);
                if (value >= 0)
                {
                    long target = Offset(value, what);
                    // type 1 is the one member; NONE and ids from a newer schema are skipped, as flatc's verifier does
                    if (type == 1) Table(target, field.Table!);
                }
                break;
            }
        }
        _path.RemoveAt(_path.Count - 1);
    }

    /// <summary>A vector's length at <paramref name="pos"/>, checked against the buffer; its element count.</summary>
    private int Vector(long pos, int elementSize, string what)
    {
        Scalar(pos, 4, what + "'s length");
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(At(pos));
        if (count >= int.MaxValue / elementSize || !Inside(pos + 4, (long)count * elementSize))
            throw Fail($"{what} claims {count} elements of {elementSize} bytes at byte {pos}, past the end of the buffer of {_length} bytes");
        return (int)count;
    }

    private void String(long pos, string what)
    {
        int length = Vector(pos, 1, what);
        if (!Inside(pos + 4 + length, 1) || At(pos + 4 + length)[0] != 0) throw Fail($"{what} (byte {pos}) has no NUL after its {length} bytes");
    }

    private MirException Fail(string problem)
    {
        var path = new StringBuilder();
        foreach (var (field, index, table, schema) in _path)
        {
            if (index == -2)
            {
                if (schema?.LabelSlot is { } slot && Label(table, slot) is { } label) path.Append(" (").Append(label).Append(')');
                continue;
            }
            if (path.Length > 0) path.Append('.');
            path.Append(field);
            if (index >= 0) path.Append('[').Append(index).Append(']');
        }
        return new MirException(path.Length == 0 ? $"{_what}: {problem}" : $"{_what}: {path}: {problem}");
    }

    /// <summary>The string in <paramref name="slot"/> of the table at <paramref name="table"/>, when every byte of it is where it should be.</summary>
    private string? Label(long table, int slot)
    {
        if (!Inside(table, 4)) return null;
        long vtable = table - BinaryPrimitives.ReadInt32LittleEndian(At(table));
        if (!Inside(vtable, 2)) return null;
        int vsize = BinaryPrimitives.ReadUInt16LittleEndian(At(vtable));
        if (!Inside(vtable, vsize)) return null;
        long pos = FieldPos(table, vtable, vsize, slot);
        if (pos < 0 || !Inside(pos, 4)) return null;
        long str = pos + BinaryPrimitives.ReadUInt32LittleEndian(At(pos));
        if (!Inside(str, 4)) return null;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(At(str));
        if (length > 256 || !Inside(str + 4, length)) return null;
        return Encoding.UTF8.GetString(At(str + 4)[..(int)length]);
    }
}
