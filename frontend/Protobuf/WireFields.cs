using System.Runtime.CompilerServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mopt.Protobuf;

/// <summary>What reading or writing a field's wire bytes asks of its descriptor, asked once.</summary>
internal sealed class WireField(FieldDescriptor descriptor, WireFormat.WireType wireType, bool writable)
{
    public FieldDescriptor Descriptor { get; } = descriptor;
    public FieldType Type { get; } = descriptor.FieldType;
    public WireFormat.WireType WireType { get; } = wireType;
    public bool Repeated { get; } = descriptor.IsRepeated;
    public bool Packed { get; } = descriptor.IsPacked;
    /// <summary>Whether <see cref="CanonicalWire"/> may write it: not a map, a group or a field of proto3's implicit presence.</summary>
    public bool Writable { get; } = writable;

    /// <summary>
    /// A message field's type's table, linked at its first look-up (a type may nest itself). Threads that race here
    /// set the same table.
    /// </summary>
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
            // maps, groups and proto3's implicit presence (a default value is not written back) are left to protobuf
            var info = new WireField(f, WireTypeOf(f.FieldType), writable: !f.IsMap && f.FieldType != FieldType.Group && (f.IsRepeated || f.HasPresence));
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
