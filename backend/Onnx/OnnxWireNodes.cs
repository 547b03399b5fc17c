using Google.Protobuf;
using Mopt.Ir;
using Mopt.Onnx.Proto;
using AttrType = Mopt.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace Mopt.Backend.Onnx;

/// <summary>
/// The main graph's nodes as the exporter reads them off the IR, sized and written straight to the wire by
/// <see cref="OnnxModelMessage"/>: NodeProto's and AttributeProto's fields in number order, as their generated code
/// writes them (the bytes are those of <c>OnnxExporter.ToModel</c>, which builds the objects; a test compares the two).
/// <para>
/// Why: a NodeProto is five objects (its lists of inputs, outputs and attributes) and each attribute one more with
/// lists of its own, all built to be written once; on a small Caffe net they were a sixth of a deploy run. Here a node
/// is a record of its names (in one shared list) and its attributes (the IR's values, in another). A node the writer
/// does not spell itself (one with regions, raw attributes or metadata) stays a NodeProto, and an attribute other than a
/// number, a string or a list of numbers (a tensor, a type, a list of strings or tensors) an AttributeProto.
/// </para>
/// </summary>
internal sealed class OnnxWireNodes
{
    /// <summary>A node: its inputs then its outputs at <see cref="FirstName"/> of the shared names, its attributes at <see cref="FirstAttribute"/>; or <see cref="Proto"/>.</summary>
    private readonly record struct Node(
        string Name, string OpType, string Domain, int FirstName, int InputCount, int OutputCount,
        int FirstAttribute, int AttributeCount, string? DocString, string? Overload, NodeProto? Proto);

    /// <summary>
    /// An attribute: an int in <see cref="I"/> (a float as its bits), a string's bytes (ByteString) or a list (ArrayAttr,
    /// DenseArrayAttr) in <see cref="Ref"/>; or the AttributeProto in <see cref="Ref"/> (<see cref="Type"/> Undefined).
    /// One reference for all three keeps the record at 32 bytes: a net has a few per node.
    /// </summary>
    private readonly record struct Attribute(string Name, AttrType Type, long I, object? Ref)
    {
        public float F => BitConverter.Int32BitsToSingle((int)I);
        public AttributeProto? Proto => Type == AttrType.Undefined ? (AttributeProto)Ref! : null;
    }

    private readonly List<Node> _nodes;
    private readonly List<string> _names;
    private readonly List<Attribute> _attributes;
    private int[]? _sizes;

    /// <param name="nodes">How many nodes to expect (the lists are sized for them, not grown).</param>
    /// <param name="names">How many inputs and outputs they have in all.</param>
    /// <param name="attributes">How many attributes they have at most.</param>
    public OnnxWireNodes(int nodes = 0, int names = 0, int attributes = 0)
    {
        _nodes = new List<Node>(nodes);
        _names = new List<string>(names);
        _attributes = new List<Attribute>(attributes);
    }

    public int Count => _nodes.Count;
    public int NameCount => _names.Count;
    public int AttributeCount => _attributes.Count;

    public void AddName(string name) => _names.Add(name);

    /// <summary>A node whose names (<see cref="AddName"/>: inputs, then outputs) and attributes were added last.</summary>
    public void AddNode(string name, string opType, string domain, int firstName, int inputCount, int outputCount,
        int firstAttribute, string? docString, string? overload) =>
        _nodes.Add(new Node(name, opType, domain, firstName, inputCount, outputCount, firstAttribute,
            _attributes.Count - firstAttribute, docString, overload, null));

    /// <summary>A node built as a NodeProto (one the writer does not spell itself).</summary>
    public void AddNode(NodeProto node) => _nodes.Add(new Node("", "", "", 0, 0, 0, 0, 0, null, null, node));

    public void AddAttribute(AttributeProto attribute) => _attributes.Add(new Attribute(attribute.Name, AttrType.Undefined, 0, attribute));

    /// <summary>
    /// Adds the attribute as the exporter's AttributeProto would hold it, when it is a number, a string or a list of
    /// numbers; false for any other kind (the caller then adds its AttributeProto).
    /// </summary>
    public bool TryAddAttribute(string name, Attr value)
    {
        switch (value)
        {
            case IntegerAttr i: _attributes.Add(new Attribute(name, AttrType.Int, i.Value, null)); return true;
            case BoolAttr b: _attributes.Add(new Attribute(name, AttrType.Int, b.Value ? 1 : 0, null)); return true;
            case FloatAttr f: _attributes.Add(new Attribute(name, AttrType.Float, BitConverter.SingleToInt32Bits((float)f.Value), null)); return true;
            case StringAttr s:
                _attributes.Add(new Attribute(name, AttrType.String, 0, UnsafeByteOperations.UnsafeWrap(StringBytes.Encode(s.Value))));
                return true;
            case DenseArrayAttr da when !da.Type.IsFloat:
                _attributes.Add(new Attribute(name, AttrType.Ints, 0, da.Values));
                return true;
            case ArrayAttr arr when ListType(arr) is { } type:
                _attributes.Add(new Attribute(name, type, 0, arr.Elements));
                return true;
            default:
                return false;
        }
    }

    /// <summary>What the exporter makes of a list: ints when every element is an integer or bool, floats when every one is a number.</summary>
    private static AttrType? ListType(ArrayAttr arr)
    {
        bool allInts = true;
        var elements = arr.Elements;
        for (int i = 0; i < elements.Count; i++)
        {
            var x = elements[i];
            if (x is IntegerAttr or BoolAttr) continue;
            if (x is not FloatAttr) return null;
            allInts = false;
        }
        return allInts ? AttrType.Ints : AttrType.Floats;
    }

    /// <summary>The encoded size of node <paramref name="i"/> (all are sized on the first call, each once).</summary>
    public int Size(int i)
    {
        if (_sizes is null)
        {
            _sizes = new int[_nodes.Count];
            for (int k = 0; k < _sizes.Length; k++) _sizes[k] = NodeSize(_nodes[k]);
        }
        return _sizes[i];
    }

    private int NodeSize(in Node node)
    {
        if (node.Proto is { } proto) return proto.CalculateSize();
        int size = 0;
        for (int k = 0; k < node.InputCount + node.OutputCount; k++) size += 1 + CodedOutputStream.ComputeStringSize(_names[node.FirstName + k]);
        size += 1 + CodedOutputStream.ComputeStringSize(node.Name);
        size += 1 + CodedOutputStream.ComputeStringSize(node.OpType);
        for (int k = 0; k < node.AttributeCount; k++)
        {
            int a = AttributeSize(_attributes[node.FirstAttribute + k]);
            size += 1 + CodedOutputStream.ComputeLengthSize(a) + a;
        }
        if (node.DocString is { } doc) size += 1 + CodedOutputStream.ComputeStringSize(doc);
        size += 1 + CodedOutputStream.ComputeStringSize(node.Domain);
        if (node.Overload is { } overload) size += 1 + CodedOutputStream.ComputeStringSize(overload);
        return size;
    }

    /// <summary>NodeProto's fields in number order, as its generated code writes them (the node's tag and length written by the caller).</summary>
    public void Write(ref WriteContext ctx, int i)
    {
        var node = _nodes[i];
        if (node.Proto is { } proto)
        {
            ((IBufferMessage)proto).InternalWriteTo(ref ctx);
            return;
        }
        for (int k = 0; k < node.InputCount; k++) WriteString(ref ctx, NodeProto.InputFieldNumber, _names[node.FirstName + k]);
        for (int k = node.InputCount; k < node.InputCount + node.OutputCount; k++) WriteString(ref ctx, NodeProto.OutputFieldNumber, _names[node.FirstName + k]);
        WriteString(ref ctx, NodeProto.NameFieldNumber, node.Name);
        WriteString(ref ctx, NodeProto.OpTypeFieldNumber, node.OpType);
        for (int k = 0; k < node.AttributeCount; k++)
        {
            var a = _attributes[node.FirstAttribute + k];
            ctx.WriteTag(NodeProto.AttributeFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteLength(AttributeSize(a));
            WriteAttribute(ref ctx, a);
        }
        if (node.DocString is { } doc) WriteString(ref ctx, NodeProto.DocStringFieldNumber, doc);
        WriteString(ref ctx, NodeProto.DomainFieldNumber, node.Domain);
        if (node.Overload is { } overload) WriteString(ref ctx, NodeProto.OverloadFieldNumber, overload);
    }

    private static int AttributeSize(in Attribute a)
    {
        if (a.Proto is { } proto) return proto.CalculateSize();
        int size = 1 + CodedOutputStream.ComputeStringSize(a.Name) + 2 + CodedOutputStream.ComputeEnumSize((int)a.Type);
        switch (a.Type)
        {
            case AttrType.Int: size += 1 + CodedOutputStream.ComputeInt64Size(a.I); break;
            case AttrType.Float: size += 1 + 4; break;
            case AttrType.String: size += 1 + CodedOutputStream.ComputeBytesSize((ByteString)a.Ref!); break;
            case AttrType.Floats: size += (1 + 4) * ((ValueList<Attr>)a.Ref!).Count; break;
            case AttrType.Ints when a.Ref is ValueList<long> values:
                for (int i = 0; i < values.Count; i++) size += 1 + CodedOutputStream.ComputeInt64Size(values[i]);
                break;
            case AttrType.Ints:
                var elements = (ValueList<Attr>)a.Ref!;
                for (int i = 0; i < elements.Count; i++) size += 1 + CodedOutputStream.ComputeInt64Size(IntOf(elements[i]));
                break;
        }
        return size;
    }

    /// <summary>AttributeProto's fields in number order: name (1), the value (f 2, i 3, s 4, floats 7, ints 8), type (20).</summary>
    private static void WriteAttribute(ref WriteContext ctx, in Attribute a)
    {
        if (a.Proto is { } proto)
        {
            ((IBufferMessage)proto).InternalWriteTo(ref ctx);
            return;
        }
        WriteString(ref ctx, AttributeProto.NameFieldNumber, a.Name);
        switch (a.Type)
        {
            case AttrType.Float:
                ctx.WriteTag(AttributeProto.FFieldNumber, WireFormat.WireType.Fixed32);
                ctx.WriteFloat(a.F);
                break;
            case AttrType.Int:
                ctx.WriteTag(AttributeProto.IFieldNumber, WireFormat.WireType.Varint);
                ctx.WriteInt64(a.I);
                break;
            case AttrType.String:
                ctx.WriteTag(AttributeProto.SFieldNumber, WireFormat.WireType.LengthDelimited);
                ctx.WriteBytes((ByteString)a.Ref!);
                break;
            case AttrType.Floats:
                var floats = (ValueList<Attr>)a.Ref!;
                for (int i = 0; i < floats.Count; i++)
                {
                    // ONNX's .proto is proto2: repeated numbers are not packed, each value its own tag.
                    ctx.WriteTag(AttributeProto.FloatsFieldNumber, WireFormat.WireType.Fixed32);
                    ctx.WriteFloat(FloatOf(floats[i]));
                }
                break;
            case AttrType.Ints when a.Ref is ValueList<long> values:
                for (int i = 0; i < values.Count; i++)
                {
                    ctx.WriteTag(AttributeProto.IntsFieldNumber, WireFormat.WireType.Varint);
                    ctx.WriteInt64(values[i]);
                }
                break;
            case AttrType.Ints:
                var ints = (ValueList<Attr>)a.Ref!;
                for (int i = 0; i < ints.Count; i++)
                {
                    ctx.WriteTag(AttributeProto.IntsFieldNumber, WireFormat.WireType.Varint);
                    ctx.WriteInt64(IntOf(ints[i]));
                }
                break;
        }
        ctx.WriteTag(AttributeProto.TypeFieldNumber, WireFormat.WireType.Varint);
        ctx.WriteEnum((int)a.Type);
    }

    /// <summary>A number of an ONNX ints list (a bool as 0/1); the exporter's AttributeProto path uses it too.</summary>
    internal static long IntOf(Attr x) => x is IntegerAttr i ? i.Value : ((BoolAttr)x).Value ? 1 : 0;

    /// <summary>A number of an ONNX floats list (an integer or bool widened).</summary>
    internal static float FloatOf(Attr x) => x switch { FloatAttr f => (float)f.Value, IntegerAttr i => i.Value, _ => ((BoolAttr)x).Value ? 1 : 0 };

    private static void WriteString(ref WriteContext ctx, int field, string value)
    {
        ctx.WriteTag(field, WireFormat.WireType.LengthDelimited);
        ctx.WriteString(value);
    }
}
