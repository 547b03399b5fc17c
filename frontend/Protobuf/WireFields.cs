using System.Runtime.CompilerServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mopt.Protobuf;

/// <summary>What reading or writing a field's wire bytes asks of its descriptor, asked once.</summary>
internal sealed record WireField(FieldDescriptor Descriptor, FieldType Type, WireFormat.WireType WireType, bool Repeated, bool Packed, bool Writable)
{
    /// <summary>A message field's message type's fields (set once the table holding this field is built).</summary>
    public WireFields? Message { get; set; }
}

/// <summary>
/// A message type's fields by number, for <see cref="CanonicalWire"/> and <see cref="MessagePrinter.PrintCanonical"/>:
/// a descriptor's own look-up by number hashes a (descriptor, number) pair each time (a quarter of writing a layer's
/// bytes). Built once per type for the process, as the descriptor is, and read-only once built.
/// </summary>
internal sealed class WireFields
{
    private static readonly ConditionalWeakTable<MessageDescriptor, WireFields> Tables = new();

    private readonly WireField?[] _byNumber;
    private readonly Dictionary<int, WireField> _large = new();
    /// <summary>Numbers below this are found in an array (Caffe's LayerParameter goes to 150).</summary>
    private const int ArrayLimit = 1024;

    public MessageDescriptor Descriptor { get; }

    private WireFields(MessageDescriptor descriptor)
    {
        Descriptor = descriptor;
        int max = 0;
        foreach (var f in descriptor.Fields.InFieldNumberOrder())
            if (f.FieldNumber < ArrayLimit) max = Math.Max(max, f.FieldNumber);
        _byNumber = new WireField?[max + 1];
        foreach (var f in descriptor.Fields.InFieldNumberOrder())
        {
            var type = f.FieldType;
            var info = new WireField(f, type, WireTypeOf(type), f.IsRepeated, f.IsPacked,
                // maps, groups and proto3's implicit presence (a default value is not written back) are left to protobuf
                Writable: !f.IsMap && type != FieldType.Group && (f.IsRepeated || f.HasPresence));
            if (f.FieldNumber < ArrayLimit) _byNumber[f.FieldNumber] = info;
            else _large[f.FieldNumber] = info;
        }
    }

    /// <summary>The type's table (a message field's nested table is linked at its first look-up: a type may nest itself).</summary>
    public static WireFields Of(MessageDescriptor descriptor) => Tables.GetValue(descriptor, static d => new WireFields(d));

    public WireField? Find(int number)
    {
        var info = (uint)number < (uint)_byNumber.Length ? _byNumber[number] : _large.GetValueOrDefault(number);
        if (info is { Type: FieldType.Message, Message: null }) info.Message = Of(info.Descriptor.MessageType);
        return info;
    }

    internal static WireFormat.WireType WireTypeOf(FieldType type) => type switch
    {
        FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 => WireFormat.WireType.Fixed32,
        FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64 => WireFormat.WireType.Fixed64,
        FieldType.String or FieldType.Bytes or FieldType.Message => WireFormat.WireType.LengthDelimited,
        FieldType.Group => WireFormat.WireType.StartGroup,
        _ => WireFormat.WireType.Varint,
    };
}
