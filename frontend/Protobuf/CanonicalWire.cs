using System.Buffers;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mopt.Protobuf;

/// <summary>
/// A message's wire bytes rewritten as Google.Protobuf's generated code writes the message they parse to: known fields in
/// number order (a repeated field's elements in their order, a <c>[packed = true]</c> field packed), each value encoded
/// as its type is, nested messages the same, recursively. It takes the bytes a writer built field after field (in any
/// order, repeated scalars unpacked) to what <c>Parser.ParseFrom(bytes).ToByteArray()</c> gives, without the message
/// objects; <see cref="MessagePrinter.PrintCanonical"/> prints those bytes as the text format prints the message.
/// <para>
/// Bytes whose message is not that simple (malformed, a field that is not in the schema or comes with another wire
/// type, a singular field given twice, groups, maps, proto3's implicit presence, a string that is not UTF-8, a packed
/// list of a field not declared packed) are refused (false), with nothing written: the caller parses them instead,
/// which reports or settles each case as protobuf does.
/// </para>
/// One instance serves many messages, one at a time (its buffers are reused).
/// </summary>
public sealed class CanonicalWire
{
    private readonly record struct Field(WireField Info, int Number, WireFormat.WireType Type, int ValueStart, int End);

    /// <summary>Every message's fields being written, the innermost last (each message's from its own start).</summary>
    private readonly List<Field> _fields = [];
    /// <summary>The bytes of each level of nesting: a nested message is written to the next level, then copied with its length.</summary>
    private readonly List<ArrayBufferWriter<byte>> _levels = [];

    private const int MaxDepth = 64;

    /// <summary>Appends the canonical bytes of the <paramref name="descriptor"/> message in <paramref name="wire"/>; false (nothing appended) when refused.</summary>
    public bool TryWrite(MessageDescriptor descriptor, ReadOnlySpan<byte> wire, IBufferWriter<byte> output)
    {
        // Written aside first: a nested message can be refused after its parent's first fields were written.
        _fields.Clear();
        var level = Level(0);
        try
        {
            if (!Write(WireFields.Of(descriptor), wire, level, depth: 0)) return false;
        }
        catch (MalformedWireException) { return false; }
        output.Write(level.WrittenSpan);
        return true;
    }

    private ArrayBufferWriter<byte> Level(int depth)
    {
        while (_levels.Count <= depth) _levels.Add(new ArrayBufferWriter<byte>(256));
        var level = _levels[depth];
        level.ResetWrittenCount();
        return level;
    }

    private bool Write(WireFields message, ReadOnlySpan<byte> wire, ArrayBufferWriter<byte> output, int depth)
    {
        int first = _fields.Count;
        try
        {
            if (depth > MaxDepth || !Index(message, wire)) return false;
            int end = _fields.Count;
            for (int i = first; i < end;)
            {
                var field = _fields[i];
                if (field.Info.Packed)
                {
                    // Every element of the field (packed runs and single values alike) in one packed record, each
                    // encoded as its type is.
                    var values = Level(depth + 1);
                    int j = i;
                    for (; j < end && _fields[j].Number == field.Number; j++)
                        PackedValues(field.Info.Type, wire[_fields[j].ValueStart.._fields[j].End], _fields[j].Type == WireFormat.WireType.LengthDelimited, values);
                    Varint(output, WireFormat.MakeTag(field.Number, WireFormat.WireType.LengthDelimited));
                    Varint(output, (ulong)values.WrittenCount);
                    output.Write(values.WrittenSpan);
                    i = j;
                    continue;
                }
                if (!Value(field, wire, output, depth)) return false;
                i++;
            }
            return true;
        }
        finally { _fields.RemoveRange(first, _fields.Count - first); }
    }

    /// <summary>
    /// Adds the message's fields to <see cref="_fields"/>, checked and sorted by number (stable: a repeated field keeps
    /// its order); false for a message this writer leaves to protobuf. Malformed bytes throw (<see cref="WireReader"/>).
    /// </summary>
    private bool Index(WireFields message, ReadOnlySpan<byte> wire)
    {
        int first = _fields.Count;
        var reader = new WireReader(wire);
        while (!reader.AtEnd)
        {
            uint tag = reader.Tag();
            int number = WireFormat.GetTagFieldNumber(tag);
            var type = WireFormat.GetTagWireType(tag);
            if (message.Find(number) is not { Writable: true } info) return false;
            if (type is WireFormat.WireType.StartGroup or WireFormat.WireType.EndGroup) return false;
            int valueStart = reader.Position;
            if (type == WireFormat.WireType.LengthDelimited)
            {
                int length = reader.LengthDelimited().Length;
                valueStart = reader.Position - length; // the value without its length
            }
            else reader.Skip(type);
            var value = wire[valueStart..reader.Position];
            bool packedRun = type == WireFormat.WireType.LengthDelimited && info.WireType != WireFormat.WireType.LengthDelimited;
            if (type != info.WireType && !(packedRun && info.Packed)) return false;
            if (packedRun && (value.IsEmpty || !WholeValues(info.WireType, value))) return false; // an empty run parses to nothing
            if (!info.Repeated)
                for (int i = first; i < _fields.Count; i++)
                    if (_fields[i].Number == number) return false; // protobuf keeps the last (or merges): not this writer's case
            if (info.Type == FieldType.String && !System.Text.Unicode.Utf8.IsValid(value)) return false;
            // Insertion in number order: a builder writes fields nearly in order.
            var field = new Field(info, number, type, valueStart, reader.Position);
            int at = _fields.Count;
            while (at > first && _fields[at - 1].Number > number) at--;
            _fields.Insert(at, field);
        }
        return true;
    }

    /// <summary>One value with its tag, encoded as the generated code writes its type.</summary>
    private bool Value(Field field, ReadOnlySpan<byte> wire, ArrayBufferWriter<byte> output, int depth)
    {
        var bytes = wire[field.ValueStart..field.End];
        var tag = WireFormat.MakeTag(field.Number, field.Type);
        switch (field.Info.Type)
        {
            case FieldType.Message:
            {
                // Written at the next level first: packing may change its length.
                var nested = Level(depth + 1);
                if (!Write(field.Info.Message!, bytes, nested, depth + 1)) return false;
                Varint(output, tag);
                Varint(output, (ulong)nested.WrittenCount);
                output.Write(nested.WrittenSpan);
                return true;
            }
            case FieldType.String or FieldType.Bytes:
                Varint(output, tag);
                Varint(output, (ulong)bytes.Length);
                output.Write(bytes);
                return true;
            case FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 or FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64:
                Varint(output, tag);
                output.Write(bytes);
                return true;
        }
        Varint(output, tag);
        Varint(output, Canonical(field.Info.Type, new WireReader(bytes).Varint()));
        return true;
    }

    /// <summary>What the generated reader keeps of a varint of <paramref name="type"/>, as its writer encodes that.</summary>
    private static ulong Canonical(FieldType type, ulong raw) => type switch
    {
        FieldType.Int32 or FieldType.Enum => (ulong)(long)(int)raw,
        FieldType.UInt32 or FieldType.SInt32 => (uint)raw,
        FieldType.Bool => raw != 0 ? 1UL : 0UL,
        _ => raw, // int64, uint64, sint64
    };

    /// <summary>The values of a packed run (or the one value of an unpacked element), each encoded as its type is.</summary>
    private static void PackedValues(FieldType type, ReadOnlySpan<byte> bytes, bool run, ArrayBufferWriter<byte> output)
    {
        if (WireFields.WireTypeOf(type) != WireFormat.WireType.Varint)
        {
            output.Write(bytes);
            return;
        }
        var reader = new WireReader(bytes);
        do Varint(output, Canonical(type, reader.Varint()));
        while (run && !reader.AtEnd);
    }

    /// <summary>Whether a packed run holds whole values of its type (a run of cut-off varints throws).</summary>
    private static bool WholeValues(WireFormat.WireType type, ReadOnlySpan<byte> run)
    {
        switch (type)
        {
            case WireFormat.WireType.Fixed32: return run.Length % 4 == 0;
            case WireFormat.WireType.Fixed64: return run.Length % 8 == 0;
            default:
                for (var reader = new WireReader(run); !reader.AtEnd;) reader.Varint();
                return true;
        }
    }

    private static void Varint(ArrayBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        output.Advance(n);
    }
}
