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
    public void Print(IMessage message, int indent)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            // An unset field with presence is skipped before its value is read: reading boxes a scalar, and a Caffe
            // layer has dozens of fields of which a few are set.
            if (field.HasPresence && !field.IsRepeated && !field.IsMap && !field.Accessor.HasValue(message)) continue;
            var value = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                PrintMap(field, (IDictionary)value, indent);
            }
            else if (field.IsRepeated)
            {
                foreach (var element in (IList)value) PrintField(field.Name, field, element, indent);
            }
            else if (field.HasPresence ? field.Accessor.HasValue(message) : !IsDefault(field, value))
            {
                PrintField(field.Name, field, value, indent);
            }
        }
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
                if (float.IsFinite((float)value)) AppendRoundTrip((float)value);
                else output.Append(FloatText((float)value));
                break;
            case FieldType.Double:
                if (double.IsFinite((double)value)) AppendRoundTrip((double)value);
                else output.Append(DoubleText((double)value));
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
