using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mopt.Ir;

namespace Mopt.Backend.Caffe;

/// <summary>
/// Attributes back to a message's wire bytes through its descriptor: the inverse of the importer's flattening
/// (frontend/Caffe/CaffeAttributes.cs). i64 → any integer field, f32/f64 → float/double, bool, string, an enum's name
/// (or number), a dictionary → a nested message, an array → a repeated field, ui8 bytes → a bytes field;
/// <c>caffe.unknown_fields</c> (bytes the schema did not know) go back as they were read.
/// </summary>
internal static class CaffeMessageBytes
{
    public const string UnknownFieldsAttr = "caffe.unknown_fields";

    /// <summary>
    /// A writer of one message's bytes, field after field; <see cref="Start"/> empties it for the next message, so that
    /// one builder (its stream, buffers, and the builders of its nested messages) serves every layer of a net.
    /// </summary>
    public sealed class Builder
    {
        private readonly MemoryStream _bytes = new();
        // One writer for the whole message, with a buffer the size of a typical layer's fields: a CodedOutputStream
        // made per field allocated its default 4 KB buffer each time (6 MB per run on landmark106's 149 layers).
        private CodedOutputStream? _output;
        private MessageDescriptor _descriptor;
        // What the errors name: this message's own text (an object whose text is made only for an error), or (a nested
        // message) its parent's and the field's name, put together only for an error.
        private object _what;
        private readonly Builder? _parent;
        // The writer of this message's nested message fields, made at the first and reused.
        private Builder? _nested;

        private CodedOutputStream Output => _output ??= new CodedOutputStream(_bytes, BufferSize, leaveOpen: true);
        private const int BufferSize = 256;

        public Builder(MessageDescriptor descriptor, object what)
        {
            _descriptor = descriptor;
            _what = what;
        }

        private Builder(Builder parent)
        {
            _parent = parent;
            _descriptor = parent._descriptor;
            _what = "";
        }

        public MessageDescriptor Descriptor => _descriptor;

        private string What => _parent is null ? _what.ToString() ?? "" : $"{_parent.What}: '{_what}'";

        /// <summary>Empties the builder for a message of <paramref name="descriptor"/> (<paramref name="what"/> for its errors).</summary>
        public Builder Start(MessageDescriptor descriptor, object what)
        {
            _output?.Flush();
            _bytes.SetLength(0);
            _descriptor = descriptor;
            _what = what;
            return this;
        }

        /// <summary>Every entry of <paramref name="dict"/> as a field (<see cref="UnknownFieldsAttr"/>: raw bytes).</summary>
        public void Fields(DictionaryAttr dict)
        {
            var entries = dict.Entries;
            for (int i = 0; i < entries.Count; i++) // by index: ValueList's enumerator is an object
            {
                var entry = entries[i];
                if (entry.Name == UnknownFieldsAttr) Raw(BytesOf(entry.Value) ?? throw new MirException($"{What}: '{UnknownFieldsAttr}' is not bytes"));
                else Field(entry.Name, entry.Value);
            }
        }

        /// <summary>The field named <paramref name="name"/> (a repeated one: every element of the array).</summary>
        public void Field(string name, Attr value)
        {
            var field = _descriptor.FindFieldByName(name)
                ?? throw new MirException($"{What}: attribute '{name}' is no field of {_descriptor.Name}, so it cannot be written back");
            Field(field, value);
        }

        public void Field(FieldDescriptor field, Attr value)
        {
            var output = Output;
            if (field.IsRepeated)
            {
                if (value is not ArrayAttr array) throw new MirException($"{What}: '{field.Name}' is a repeated field of {_descriptor.Name}, but its attribute {value} is not an array");
                var elements = array.Elements;
                for (int i = 0; i < elements.Count; i++) One(output, field, elements[i]);
            }
            else One(output, field, value);
        }

        /// <summary>The string field numbered <paramref name="number"/> (one element of it, if repeated).</summary>
        public void String(int number, string value)
        {
            Output.WriteTag(number, WireFormat.WireType.LengthDelimited);
            Output.WriteString(value);
        }

        /// <summary>Bytes written as they are (fields the schema does not know, or a nested message already encoded).</summary>
        public void Raw(ReadOnlySpan<byte> bytes)
        {
            _output?.Flush();
            _bytes.Write(bytes);
        }

        /// <summary>A nested message field holding <paramref name="bytes"/> (copied).</summary>
        public void Message(FieldDescriptor field, ReadOnlySpan<byte> bytes)
        {
            var output = Output;
            output.WriteTag(field.FieldNumber, WireFormat.WireType.LengthDelimited);
            output.WriteLength(bytes.Length);
            Raw(bytes);
        }

        /// <summary>The bytes written so far, in the builder's own buffer (valid until the next write): to parse without a copy.</summary>
        public ReadOnlySpan<byte> WrittenSpan()
        {
            _output?.Flush();
            return _bytes.GetBuffer().AsSpan(0, (int)_bytes.Length);
        }

        public byte[] ToArray()
        {
            _output?.Flush();
            return _bytes.ToArray();
        }

        private void One(CodedOutputStream o, FieldDescriptor field, Attr value)
        {
            string Bad() => $"{What}: attribute '{field.Name}' = {value} does not fit {_descriptor.Name}.{field.Name} ({field.FieldType})";
            int n = field.FieldNumber;
            switch (field.FieldType)
            {
                case FieldType.Message or FieldType.Group:
                {
                    if (value is not DictionaryAttr dict) throw new MirException(Bad());
                    var nested = (_nested ??= new Builder(this)).Start(field.MessageType, field.Name);
                    nested.Fields(dict);
                    Message(field, nested.WrittenSpan());
                    return;
                }
                case FieldType.String:
                    o.WriteTag(n, WireFormat.WireType.LengthDelimited);
                    o.WriteString(value is StringAttr s ? s.Value : throw new MirException(Bad()));
                    return;
                case FieldType.Bytes:
                    o.WriteTag(n, WireFormat.WireType.LengthDelimited);
                    o.WriteBytes(UnsafeByteOperations.UnsafeWrap(BytesOf(value) ?? throw new MirException(Bad())));
                    return;
                case FieldType.Float:
                    o.WriteTag(n, WireFormat.WireType.Fixed32);
                    o.WriteFloat((float)(Number(value) ?? throw new MirException(Bad())));
                    return;
                case FieldType.Double:
                    o.WriteTag(n, WireFormat.WireType.Fixed64);
                    o.WriteDouble(Number(value) ?? throw new MirException(Bad()));
                    return;
                case FieldType.Bool:
                    o.WriteTag(n, WireFormat.WireType.Varint);
                    o.WriteBool(value is BoolAttr b ? b.Value : throw new MirException(Bad()));
                    return;
                case FieldType.Enum:
                {
                    int number = value switch
                    {
                        StringAttr named when field.EnumType.FindValueByName(named.Value) is { } v => v.Number,
                        IntegerAttr i => checked((int)i.Value),
                        _ => throw new MirException(Bad()),
                    };
                    o.WriteTag(n, WireFormat.WireType.Varint);
                    o.WriteEnum(number);
                    return;
                }
            }
            long x = value is IntegerAttr integer ? integer.Value : throw new MirException(Bad());
            try
            {
                switch (field.FieldType)
                {
                    case FieldType.Int32: o.WriteTag(n, WireFormat.WireType.Varint); o.WriteInt32(checked((int)x)); break;
                    case FieldType.Int64: o.WriteTag(n, WireFormat.WireType.Varint); o.WriteInt64(x); break;
                    case FieldType.UInt32: o.WriteTag(n, WireFormat.WireType.Varint); o.WriteUInt32(checked((uint)x)); break;
                    case FieldType.UInt64: o.WriteTag(n, WireFormat.WireType.Varint); o.WriteUInt64((ulong)x); break;
                    case FieldType.SInt32: o.WriteTag(n, WireFormat.WireType.Varint); o.WriteSInt32(checked((int)x)); break;
                    case FieldType.SInt64: o.WriteTag(n, WireFormat.WireType.Varint); o.WriteSInt64(x); break;
                    case FieldType.Fixed32: o.WriteTag(n, WireFormat.WireType.Fixed32); o.WriteFixed32(checked((uint)x)); break;
                    case FieldType.Fixed64: o.WriteTag(n, WireFormat.WireType.Fixed64); o.WriteFixed64((ulong)x); break;
                    case FieldType.SFixed32: o.WriteTag(n, WireFormat.WireType.Fixed32); o.WriteSFixed32(checked((int)x)); break;
                    case FieldType.SFixed64: o.WriteTag(n, WireFormat.WireType.Fixed64); o.WriteSFixed64(x); break;
                    default: throw new MirException(Bad());
                }
            }
            catch (OverflowException) { throw new MirException($"{Bad()}: out of range"); }
        }
    }

    /// <summary>A dictionary as the bytes of a <paramref name="descriptor"/> message.</summary>
    public static byte[] Encode(DictionaryAttr dict, MessageDescriptor descriptor, string what)
    {
        var builder = new Builder(descriptor, what);
        builder.Fields(dict);
        return builder.ToArray();
    }

    /// <summary>The bytes a <c>tensor&lt;Nxui8&gt;</c> dense attribute holds, or null.</summary>
    public static byte[]? BytesOf(Attr value) => value is DenseElementsAttr { Type.Element: var e } d && (e == ElementType.UI8 || e == ElementType.I8)
        ? (d.IsSplat ? d.ToFullBytes() : d.Data.ToArray())
        : null;

    private static double? Number(Attr value) => value switch
    {
        FloatAttr f => f.Value,
        IntegerAttr i => i.Value,
        _ => null,
    };
}
