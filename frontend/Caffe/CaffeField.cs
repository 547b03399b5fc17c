using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mopt.Ir;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// One field of a Caffe message as the importer reads it, worked out once per process from its descriptor: reading a
/// layer asked the descriptor's properties and built its attribute names ("caffe." + name) at every field.
/// </summary>
internal sealed class CaffeField
{
    public CaffeField(FieldDescriptor field)
    {
        Descriptor = field;
        Name = field.Name;
        Type = field.FieldType;
        IsRepeated = field.IsRepeated;
        IsPackable = Type is not (FieldType.Message or FieldType.Group or FieldType.String or FieldType.Bytes);
        IsMessage = Type is FieldType.Message or FieldType.Group;
        Wire = Type switch
        {
            FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 => WireFormat.WireType.Fixed32,
            FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64 => WireFormat.WireType.Fixed64,
            FieldType.String or FieldType.Bytes => WireFormat.WireType.LengthDelimited,
            _ => WireFormat.WireType.Varint,
        };
        IsParam = Name.EndsWith("_param", StringComparison.Ordinal);
        LayerAttrName = IsParam ? Name : "caffe." + Name;
        NameAttr = new StringAttr(Name);
    }

    public FieldDescriptor Descriptor { get; }
    public int Number => Descriptor.FieldNumber;
    public string Name { get; }
    public FieldType Type { get; }
    public bool IsRepeated { get; }
    /// <summary>A scalar, which a repeated field may write packed (one length-delimited run).</summary>
    public bool IsPackable { get; }
    public bool IsMessage { get; }
    /// <summary>The wire type of one unpacked value.</summary>
    public WireFormat.WireType Wire { get; }
    /// <summary>A <c>*_param</c> field: as a LayerParameter's, a parameter message that keeps its name as an attribute.</summary>
    public bool IsParam { get; }
    /// <summary>As a LayerParameter's, the op's attribute it becomes: a <c>*_param</c> its name, any other <c>caffe.&lt;name&gt;</c>.</summary>
    public string LayerAttrName { get; }
    /// <summary>The name as an attribute (<c>caffe.param_field</c>'s value).</summary>
    public StringAttr NameAttr { get; }
}
