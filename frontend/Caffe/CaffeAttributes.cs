using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mopt.Ir;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// A message's set fields as MLIR attributes, read from its wire bytes with its descriptor (no .NET reflection, so
/// Native AOT keeps it whole): integers → i64, float → f32, double → f64, bool, string, enum → its name, a nested
/// message → a dictionary, a repeated field → an array. Only what the bytes hold appears (Caffe's defaults stay
/// implicit, as in the prototxt); fields the schema does not know are kept as bytes in <c>caffe.unknown_fields</c>.
/// </summary>
internal static class CaffeAttributes
{
    public const string UnknownFieldsAttr = "caffe.unknown_fields";

    /// <summary>
    /// The fields of <paramref name="bytes"/> (a <paramref name="descriptor"/> message) in the order they first appear,
    /// but for those <paramref name="leftOut"/> names, which are skipped unread.
    /// </summary>
    public static List<(FieldDescriptor Field, Attr Value)> Fields(ReadOnlySpan<byte> bytes, MessageDescriptor descriptor, CaffeFieldNumbers numbers,
        out byte[]? unknown, Func<FieldDescriptor, bool>? leftOut = null)
    {
        // A message has a handful of fields: a list searched in order is cheaper than a dictionary by number. A
        // singular field keeps its last value in place; only a repeated one needs a list of its values.
        var order = new List<FieldValues>();
        List<byte>? unknownBytes = null;
        var input = new WireReader(bytes);
        while (!input.AtEnd)
        {
            int start = input.Position;
            uint tag = input.Tag();
            int number = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            var field = numbers.Find(descriptor, number);
            if (field is null)
            {
                input.Skip(wire);
                (unknownBytes ??= []).AddRange(bytes[start..input.Position]);
                continue;
            }
            if (leftOut is not null && leftOut(field))
            {
                input.Skip(wire);
                continue;
            }
            int index = order.Count;
            for (int i = 0; i < order.Count; i++)
                if (order[i].Field.FieldNumber == number) { index = i; break; }
            if (index == order.Count) order.Add(new FieldValues(field));
            ref var entry = ref CollectionsMarshal.AsSpan(order)[index];
            if (wire == WireFormat.WireType.LengthDelimited && IsScalar(field.FieldType))
            {
                // packed repeated scalars
                var packed = new WireReader(input.LengthDelimited());
                while (!packed.AtEnd) entry.Add(Scalar(ref packed, field, numbers));
            }
            else entry.Add(field.FieldType switch
            {
                FieldType.Message or FieldType.Group when wire == WireFormat.WireType.LengthDelimited => Message(input.LengthDelimited(), field.MessageType, numbers),
                _ when wire == ExpectedWire(field.FieldType) => Scalar(ref input, field, numbers),
                _ => throw new MirException($"{descriptor.Name}.{field.Name} has the wrong wire type ({wire})"),
            });
        }
        unknown = unknownBytes?.ToArray();
        var result = new List<(FieldDescriptor, Attr)>(order.Count);
        foreach (var entry in order) result.Add((entry.Field, entry.Field.IsRepeated ? ArrayAttr.Of(entry.Values ?? []) : entry.Last!));
        return result;
    }

    /// <summary>
    /// The values of the length-delimited field numbered <paramref name="number"/> in a message's well-formed bytes, in
    /// order (<paramref name="expected"/> of them, usually).
    /// </summary>
    public static ReadOnlyMemory<byte>[] FieldSlices(ReadOnlyMemory<byte> bytes, int number, int expected)
    {
        var slices = new List<ReadOnlyMemory<byte>>(expected);
        var input = new WireReader(bytes.Span);
        while (!input.AtEnd)
        {
            uint tag = input.Tag();
            var wire = WireFormat.GetTagWireType(tag);
            if (WireFormat.GetTagFieldNumber(tag) == number && wire == WireFormat.WireType.LengthDelimited)
            {
                int length = checked((int)input.Varint());
                slices.Add(bytes.Slice(input.Position, length));
                input.Skip(length);
            }
            else input.Skip(wire);
        }
        return slices.ToArray();
    }

    /// <summary>A field's values as read so far: a singular field's last one, or all of a repeated field's.</summary>
    private struct FieldValues(FieldDescriptor field)
    {
        public readonly FieldDescriptor Field = field;
        public Attr? Last;
        public List<Attr>? Values;

        public void Add(Attr value)
        {
            if (Field.IsRepeated) (Values ??= []).Add(value);
            else Last = value;
        }
    }

    /// <summary>A nested message as a dictionary of its set fields.</summary>
    public static DictionaryAttr Message(ReadOnlySpan<byte> bytes, MessageDescriptor descriptor, CaffeFieldNumbers numbers)
    {
        var fields = Fields(bytes, descriptor, numbers, out var unknown);
        var attrs = new NamedAttr[fields.Count + (unknown is null ? 0 : 1)];
        for (int i = 0; i < fields.Count; i++) attrs[i] = new NamedAttr(fields[i].Field.Name, fields[i].Value);
        if (unknown is not null) attrs[^1] = new NamedAttr(UnknownFieldsAttr, Bytes(unknown));
        return DictionaryAttr.From(attrs);
    }

    public static DenseElementsAttr Bytes(byte[] bytes) => new(new TensorType(ElementType.UI8, [bytes.Length]), bytes, false);

    private static bool IsScalar(FieldType t) => t is not (FieldType.Message or FieldType.Group or FieldType.String or FieldType.Bytes);

    private static WireFormat.WireType ExpectedWire(FieldType t) => t switch
    {
        FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 => WireFormat.WireType.Fixed32,
        FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64 => WireFormat.WireType.Fixed64,
        FieldType.String or FieldType.Bytes => WireFormat.WireType.LengthDelimited,
        _ => WireFormat.WireType.Varint,
    };

    private static Attr Scalar(ref WireReader input, FieldDescriptor field, CaffeFieldNumbers numbers) => field.FieldType switch
    {
        FieldType.Float => FloatAttr.F32(BitConverter.Int32BitsToSingle((int)input.Fixed32())),
        FieldType.Double => new FloatAttr(BitConverter.Int64BitsToDouble((long)input.Fixed64()), ElementType.F64),
        FieldType.Bool => input.Varint() != 0 ? BoolAttr.True : BoolAttr.False,
        FieldType.Int32 => IntegerAttr.I64((int)input.Varint()),
        FieldType.Int64 => IntegerAttr.I64((long)input.Varint()),
        FieldType.UInt32 => IntegerAttr.I64((uint)input.Varint()),
        FieldType.UInt64 => IntegerAttr.I64((long)input.Varint()),
        FieldType.SInt32 => IntegerAttr.I64(ZigZag32((uint)input.Varint())),
        FieldType.SInt64 => IntegerAttr.I64(ZigZag64(input.Varint())),
        FieldType.Fixed32 => IntegerAttr.I64(input.Fixed32()),
        FieldType.Fixed64 => IntegerAttr.I64((long)input.Fixed64()),
        FieldType.SFixed32 => IntegerAttr.I64((int)input.Fixed32()),
        FieldType.SFixed64 => IntegerAttr.I64((long)input.Fixed64()),
        FieldType.Enum => (int)input.Varint() is var n && numbers.EnumName(field.EnumType, n) is { } name ? name : IntegerAttr.I64(n),
        FieldType.String => new StringAttr(System.Text.Encoding.UTF8.GetString(input.LengthDelimited())),
        FieldType.Bytes => Bytes(input.LengthDelimited().ToArray()),
        _ => throw new MirException($"field '{field.Name}': unexpected type {field.FieldType}"),
    };

    private static int ZigZag32(uint n) => (int)(n >> 1) ^ -(int)(n & 1);
    private static long ZigZag64(ulong n) => (long)(n >> 1) ^ -(long)(n & 1);

    /// <summary>
    /// A cursor over a message's wire bytes. The bytes are always well-formed: protobuf's own encoding of a parsed
    /// message (ToByteArray), or bytes that the generated parser has read (a prototxt's transcoded text); reading them in place spares CodedInputStream's copies of every
    /// nested message and packed run (a per-layer cost of the import).
    /// </summary>
    private ref struct WireReader(ReadOnlySpan<byte> bytes)
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
}
