using System.Collections;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mopt.Protobuf;

/// <summary>
/// Writes a message as protobuf's TextFormat prints it (what Caffe and TensorFlow write): set fields in number order,
/// <c>name: value</c>, <c>name {</c> blocks indented by 2, enums by name, strings and bytes C-escaped (octal for bytes
/// outside printable ASCII), map entries sorted by key. Floats take the shortest text that reads back to the same value.
/// </summary>
internal sealed class MessagePrinter(StringBuilder output)
{
    private enum FieldKind : byte { Map, Repeated, WithPresence, WithoutPresence }

    // Each message type's fields in number order with what kind each is, worked out once per printer: asking a
    // descriptor (HasPresence, IsMap) for every field of every message was a fifth of printing a Caffe net, whose
    // layers have some 70 fields of which a few are set.
    private readonly Dictionary<MessageDescriptor, (FieldDescriptor Field, FieldKind Kind)[]> _fields = new();

    public void Print(IMessage message, int indent)
    {
        foreach (var (field, kind) in FieldsOf(message.Descriptor))
        {
            switch (kind)
            {
                case FieldKind.Map:
                    PrintMap(field, (IDictionary)field.Accessor.GetValue(message), indent);
                    break;
                case FieldKind.Repeated:
                {
                    var list = (IList)field.Accessor.GetValue(message);
                    for (int i = 0; i < list.Count; i++) PrintField(field.Name, field, list[i]!, indent);
                    break;
                }
                case FieldKind.WithPresence:
                    // An unset field is skipped before its value is read: reading boxes a scalar.
                    if (field.Accessor.HasValue(message)) PrintField(field.Name, field, field.Accessor.GetValue(message), indent);
                    break;
                default:
                {
                    var value = field.Accessor.GetValue(message);
                    if (!IsDefault(field, value)) PrintField(field.Name, field, value, indent);
                    break;
                }
            }
        }
    }

    /// <summary>
    /// The message in <paramref name="canonical"/> (the bytes protobuf writes, as <see cref="CanonicalWire"/> makes them:
    /// known fields in number order, then any unknown ones) as <see cref="Print"/> prints the message those bytes parse
    /// to, read from the bytes (no message object).
    /// </summary>
    public void PrintCanonical(MessageDescriptor descriptor, ReadOnlySpan<byte> canonical, int indent) =>
        PrintCanonical(WireFields.Of(descriptor), canonical, indent);

    private void PrintCanonical(WireFields fields, ReadOnlySpan<byte> canonical, int indent)
    {
        var reader = new WireReader(canonical);
        while (!reader.AtEnd)
        {
            uint tag = reader.Tag();
            var type = WireFormat.GetTagWireType(tag);
            // Unknown fields (protobuf keeps them, a known number with another wire type too, and writes them after the
            // known ones) are not printed, as in Print.
            if (fields.Find(WireFormat.GetTagFieldNumber(tag)) is not { } info
                || type != info.WireType && !(type == WireFormat.WireType.LengthDelimited && info.Repeated))
            {
                reader.Skip(type);
                continue;
            }
            var field = info.Descriptor;
            if (type != WireFormat.WireType.LengthDelimited)
            {
                PrintScalar(field, ref reader, indent);
                continue;
            }
            var value = reader.LengthDelimited();
            switch (field.FieldType)
            {
                case FieldType.Message:
                    output.Append(' ', indent).Append(field.Name).Append(" {\n");
                    PrintCanonical(info.Message!, value, indent + 2);
                    output.Append(' ', indent).Append("}\n");
                    break;
                case FieldType.String or FieldType.Bytes:
                    output.Append(' ', indent).Append(field.Name).Append(": ");
                    if (field.FieldType == FieldType.String && IsPlainAscii(value)) AppendAscii(value);
                    else AppendQuoted(value);
                    output.Append('\n');
                    break;
                default: // a packed run: a line per element
                    for (var run = new WireReader(value); !run.AtEnd;) PrintScalar(field, ref run, indent);
                    break;
            }
        }
    }

    /// <summary>Prints the scalar of <paramref name="field"/> at the reader's position as a line (the reader moves past it).</summary>
    private void PrintScalar(FieldDescriptor field, ref WireReader reader, int indent)
    {
        output.Append(' ', indent).Append(field.Name).Append(": ");
        switch (field.FieldType)
        {
            case FieldType.Float: AppendFloat(BitConverter.UInt32BitsToSingle(reader.Fixed32())); break;
            case FieldType.Fixed32: AppendInteger(reader.Fixed32()); break;
            case FieldType.SFixed32: AppendInteger((int)reader.Fixed32()); break;
            case FieldType.Double: AppendDouble(BitConverter.UInt64BitsToDouble(reader.Fixed64())); break;
            case FieldType.Fixed64: AppendInteger(reader.Fixed64()); break;
            case FieldType.SFixed64: AppendInteger((long)reader.Fixed64()); break;
            case FieldType.Bool: output.Append(reader.Varint() != 0 ? "true" : "false"); break;
            case FieldType.Enum:
                int number = (int)reader.Varint();
                if (field.EnumType.FindValueByNumber(number) is { } named) output.Append(named.Name);
                else AppendInteger(number);
                break;
            case FieldType.Int32: AppendInteger((int)reader.Varint()); break;
            case FieldType.UInt32: AppendInteger((uint)reader.Varint()); break;
            case FieldType.SInt32:
                uint zigzag = (uint)reader.Varint();
                AppendInteger((int)(zigzag >> 1) ^ -(int)(zigzag & 1));
                break;
            case FieldType.SInt64:
                ulong zigzag64 = reader.Varint();
                AppendInteger((long)(zigzag64 >> 1) ^ -(long)(zigzag64 & 1));
                break;
            case FieldType.UInt64: AppendInteger(reader.Varint()); break;
            default: AppendInteger((long)reader.Varint()); break; // int64
        }
        output.Append('\n');
    }

    private void AppendInteger<T>(T value) where T : ISpanFormattable
    {
        Span<char> text = stackalloc char[32];
        if (value.TryFormat(text, out int length, default, CultureInfo.InvariantCulture)) output.Append(text[..length]);
        else output.Append(value.ToString(null, CultureInfo.InvariantCulture));
    }

    private void AppendAscii(ReadOnlySpan<byte> ascii)
    {
        output.Append('"');
        foreach (byte b in ascii) output.Append((char)b);
        output.Append('"');
    }

    /// <summary>Whether the UTF-8 bytes are printable ASCII that CEscape leaves as they are.</summary>
    private static bool IsPlainAscii(ReadOnlySpan<byte> utf8)
    {
        foreach (byte b in utf8)
            if (b is < (byte)' ' or >= 0x7F or (byte)'"' or (byte)'\\' or (byte)'\'') return false;
        return true;
    }

    private (FieldDescriptor Field, FieldKind Kind)[] FieldsOf(MessageDescriptor descriptor)
    {
        if (_fields.TryGetValue(descriptor, out var fields)) return fields;
        var ordered = descriptor.Fields.InFieldNumberOrder();
        fields = new (FieldDescriptor, FieldKind)[ordered.Count];
        for (int i = 0; i < fields.Length; i++)
        {
            var field = ordered[i];
            fields[i] = (field, field.IsMap ? FieldKind.Map : field.IsRepeated ? FieldKind.Repeated
                : field.HasPresence ? FieldKind.WithPresence : FieldKind.WithoutPresence);
        }
        return _fields[descriptor] = fields;
    }

    private void PrintField(string name, FieldDescriptor field, object value, int indent)
    {
        output.Append(' ', indent).Append(name);
        if (field.FieldType is FieldType.Message or FieldType.Group)
        {
            output.Append(" {\n");
            Print((IMessage)value, indent + 2);
            output.Append(' ', indent).Append("}\n");
            return;
        }
        output.Append(": ");
        AppendScalar(field, value);
        output.Append('\n');
    }

    /// <summary>Each entry as a block of its key and value (both always written), in key order as protobuf sorts them.</summary>
    private void PrintMap(FieldDescriptor field, IDictionary map, int indent)
    {
        var keyField = field.MessageType.FindFieldByNumber(1);
        var valueField = field.MessageType.FindFieldByNumber(2);
        var entries = new List<DictionaryEntry>(map.Count);
        foreach (DictionaryEntry entry in map) entries.Add(entry);
        entries.Sort((a, b) => a.Key is string x && b.Key is string y ? string.CompareOrdinal(x, y) : Comparer.DefaultInvariant.Compare(a.Key, b.Key));
        foreach (var entry in entries)
        {
            output.Append(' ', indent).Append(field.Name).Append(" {\n");
            PrintField("key", keyField, entry.Key, indent + 2);
            PrintField("value", valueField, entry.Value!, indent + 2);
            output.Append(' ', indent).Append("}\n");
        }
    }

    private void AppendScalar(FieldDescriptor field, object value)
    {
        switch (field.FieldType)
        {
            case FieldType.String:
                if (IsPlainAscii((string)value)) output.Append('"').Append((string)value).Append('"');
                else AppendQuoted(Encoding.UTF8.GetBytes((string)value));
                break;
            case FieldType.Bytes:
                AppendQuoted(((ByteString)value).Span);
                break;
            case FieldType.Bool:
                output.Append((bool)value ? "true" : "false");
                break;
            case FieldType.Float:
                AppendFloat((float)value);
                break;
            case FieldType.Double:
                AppendDouble((double)value);
                break;
            case FieldType.Enum:
            {
                int number = Convert.ToInt32(value, CultureInfo.InvariantCulture);
                if (field.EnumType.FindValueByNumber(number) is { } named) output.Append(named.Name);
                else output.Append(number.ToString(CultureInfo.InvariantCulture));
                break;
            }
            default:
            {
                // Integers, formatted in place (no string per number).
                Span<char> text = stackalloc char[32];
                if (((ISpanFormattable)value).TryFormat(text, out int length, default, CultureInfo.InvariantCulture)) output.Append(text[..length]);
                else output.Append(((IFormattable)value).ToString(null, CultureInfo.InvariantCulture));
                break;
            }
        }
    }

    /// <summary>Whether the string is printable ASCII that CEscape leaves as it is (so it is written without encoding it).</summary>
    private static bool IsPlainAscii(string s)
    {
        foreach (char c in s)
            if (c is < ' ' or >= (char)0x7F or '"' or '\\' or '\'') return false;
        return true;
    }

    private void AppendFloat(float value)
    {
        if (float.IsFinite(value)) AppendRoundTrip(value);
        else output.Append(FloatText(value));
    }

    private void AppendDouble(double value)
    {
        if (double.IsFinite(value)) AppendRoundTrip(value);
        else output.Append(DoubleText(value));
    }

    /// <summary><see cref="FloatText"/> of a finite value, formatted in place.</summary>
    private void AppendRoundTrip<T>(T value) where T : ISpanFormattable
    {
        Span<char> text = stackalloc char[64];
        if (!value.TryFormat(text, out int length, "R", CultureInfo.InvariantCulture))
        {
            output.Append(value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e'));
            return;
        }
        var written = text[..length];
        written.Replace('E', 'e');
        output.Append(written);
    }

    /// <summary>The shortest text that reads back to <paramref name="value"/>; inf, -inf and nan as protobuf writes them.</summary>
    internal static string FloatText(float value) =>
        float.IsNaN(value) ? "nan" : float.IsInfinity(value) ? (value > 0 ? "inf" : "-inf")
        : value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');

    internal static string DoubleText(double value) =>
        double.IsNaN(value) ? "nan" : double.IsInfinity(value) ? (value > 0 ? "inf" : "-inf")
        : value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');

    /// <summary>Bytes in double quotes as protobuf's CEscape writes them: \n \r \t \" \' \\, octal for the rest outside printable ASCII.</summary>
    private void AppendQuoted(ReadOnlySpan<byte> bytes)
    {
        output.Append('"');
        foreach (byte b in bytes)
        {
            switch (b)
            {
                case (byte)'\n': output.Append("\\n"); break;
                case (byte)'\r': output.Append("\\r"); break;
                case (byte)'\t': output.Append("\\t"); break;
                case (byte)'"': output.Append("\\\""); break;
                case (byte)'\'': output.Append("\\'"); break;
                case (byte)'\\': output.Append("\\\\"); break;
                case < 0x20 or >= 0x7F:
                    output.Append('\\').Append((char)('0' + (b >> 6))).Append((char)('0' + ((b >> 3) & 7))).Append((char)('0' + (b & 7)));
                    break;
                default: output.Append((char)b); break;
            }
        }
        output.Append('"');
    }

    /// <summary>Whether a field without presence (proto3) holds its default, which the text leaves out.</summary>
    private static bool IsDefault(FieldDescriptor field, object value) => field.FieldType switch
    {
        FieldType.String => ((string)value).Length == 0,
        FieldType.Bytes => ((ByteString)value).IsEmpty,
        FieldType.Bool => !(bool)value,
        FieldType.Float => BitConverter.SingleToInt32Bits((float)value) == 0,
        FieldType.Double => BitConverter.DoubleToInt64Bits((double)value) == 0,
        FieldType.Enum => Convert.ToInt32(value, CultureInfo.InvariantCulture) == 0,
        FieldType.UInt64 or FieldType.Fixed64 => (ulong)value == 0,
        FieldType.UInt32 or FieldType.Fixed32 => (uint)value == 0,
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => (long)value == 0,
        FieldType.Message or FieldType.Group => value is null,
        _ => (int)value == 0,
    };
}
