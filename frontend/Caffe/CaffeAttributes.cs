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

    /// <summary>The fields of <paramref name="bytes"/> (a <paramref name="descriptor"/> message) in the order they first appear.</summary>
    public static List<(FieldDescriptor Field, Attr Value)> Fields(ReadOnlySpan<byte> bytes, MessageDescriptor descriptor, out byte[]? unknown)
    {
        var order = new List<FieldDescriptor>();
        var values = new Dictionary<int, List<Attr>>();
        using var unknownBuffer = new MemoryStream();
        var input = new CodedInputStream(bytes.ToArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int number = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            var field = descriptor.FindFieldByNumber(number);
            if (field is null)
            {
                var start = input.Position - CodedOutputStream.ComputeRawVarint32Size(tag);
                input.SkipLastField();
                unknownBuffer.Write(bytes[(int)start..(int)input.Position]);
                continue;
            }
            if (!values.TryGetValue(number, out var list)) { values[number] = list = []; order.Add(field); }
            if (!field.IsRepeated) list.Clear();
            if (wire == WireFormat.WireType.LengthDelimited && IsScalar(field.FieldType))
            {
                // packed repeated scalars
                var packed = input.ReadBytes();
                var inner = new CodedInputStream(packed.ToByteArray());
                while (!inner.IsAtEnd) list.Add(Scalar(inner, field));
            }
            else list.Add(field.FieldType switch
            {
                FieldType.Message or FieldType.Group when wire == WireFormat.WireType.LengthDelimited => Message(input.ReadBytes().Span, field.MessageType),
                _ when wire == ExpectedWire(field.FieldType) => Scalar(input, field),
                _ => throw new MirException($"{descriptor.Name}.{field.Name} has the wrong wire type ({wire})"),
            });
        }
        unknown = unknownBuffer.Length > 0 ? unknownBuffer.ToArray() : null;
        return order.Select(f => (f, f.IsRepeated ? (Attr)ArrayAttr.Of(values[f.FieldNumber]) : values[f.FieldNumber][^1])).ToList();
    }

    /// <summary>A nested message as a dictionary of its set fields.</summary>
    public static DictionaryAttr Message(ReadOnlySpan<byte> bytes, MessageDescriptor descriptor)
    {
        var fields = Fields(bytes, descriptor, out var unknown);
        var attrs = fields.Select(f => new NamedAttr(f.Field.Name, f.Value)).ToList();
        if (unknown is not null) attrs.Add(new NamedAttr(UnknownFieldsAttr, Bytes(unknown)));
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

    private static Attr Scalar(CodedInputStream input, FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Float => FloatAttr.F32(input.ReadFloat()),
        FieldType.Double => new FloatAttr(input.ReadDouble(), ElementType.F64),
        FieldType.Bool => input.ReadBool() ? BoolAttr.True : BoolAttr.False,
        FieldType.Int32 => IntegerAttr.I64(input.ReadInt32()),
        FieldType.Int64 => IntegerAttr.I64(input.ReadInt64()),
        FieldType.UInt32 => IntegerAttr.I64(input.ReadUInt32()),
        FieldType.UInt64 => IntegerAttr.I64((long)input.ReadUInt64()),
        FieldType.SInt32 => IntegerAttr.I64(input.ReadSInt32()),
        FieldType.SInt64 => IntegerAttr.I64(input.ReadSInt64()),
        FieldType.Fixed32 => IntegerAttr.I64(input.ReadFixed32()),
        FieldType.Fixed64 => IntegerAttr.I64((long)input.ReadFixed64()),
        FieldType.SFixed32 => IntegerAttr.I64(input.ReadSFixed32()),
        FieldType.SFixed64 => IntegerAttr.I64(input.ReadSFixed64()),
        FieldType.Enum => input.ReadEnum() is var n && field.EnumType.FindValueByNumber(n) is { } v ? new StringAttr(v.Name) : IntegerAttr.I64(n),
        FieldType.String => new StringAttr(input.ReadString()),
        FieldType.Bytes => Bytes(input.ReadBytes().ToByteArray()),
        _ => throw new MirException($"field '{field.Name}': unexpected type {field.FieldType}"),
    };
}
