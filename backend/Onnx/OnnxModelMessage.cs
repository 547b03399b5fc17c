using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mopt.Ir;
using Mopt.Onnx.Proto;

namespace Mopt.Backend.Onnx;

/// <summary>
/// A ModelProto on the wire, written from the exporter's parts: the model's own fields, its main graph, that graph's
/// nodes as the IR holds them (<see cref="OnnxWireNodes"/>), and its value_info as names with their types already
/// encoded. The bytes are those of the assembled ModelProto (<c>OnnxExporter.ToModel(m).ToByteArray()</c>, which the
/// tests check); the generated classes stay the schema and still write every tensor, subgraph and other message inside.
/// <para>
/// Why not the assembled message: Google.Protobuf does not keep a message's size, so writing a nested message sizes it
/// once for every level above it. A value_info's type (Model > Graph > ValueInfo > Type > Tensor > Shape > Dim) was
/// sized six times and a node's attributes four, and each result's ValueInfoProto was five objects. Here the graph and
/// its nodes are sized once, and a value_info is its name and its type's bytes (encoded once per distinct type).
/// </para>
/// It implements <see cref="IBufferMessage"/> only to be handed a <see cref="WriteContext"/> (by
/// <c>MessageExtensions.WriteTo(IBufferWriter)</c> and <c>CodedOutputStream.WriteRawMessage</c>); it is never read.
/// </summary>
internal sealed class OnnxModelMessage(ModelProto model, GraphProto graph, OnnxWireNodes? wireNodes, IReadOnlyList<(string Name, ByteString Type)> valueInfos) : IBufferMessage
{
    private int[]? _nodeSizes;
    private int _graphSize = -1;

    public MessageDescriptor Descriptor => ModelProto.Descriptor;

    public void MergeFrom(CodedInputStream input) => throw new NotSupportedException("an ONNX model being written is not read");

    public void InternalMergeFrom(ref ParseContext ctx) => throw new NotSupportedException("an ONNX model being written is not read");

    public void WriteTo(CodedOutputStream output) => output.WriteRawMessage(this);

    public int CalculateSize()
    {
        int size = 0;
        if (model.HasIrVersion) size += 1 + CodedOutputStream.ComputeInt64Size(model.IrVersion);
        if (model.HasProducerName) size += 1 + CodedOutputStream.ComputeStringSize(model.ProducerName);
        if (model.HasProducerVersion) size += 1 + CodedOutputStream.ComputeStringSize(model.ProducerVersion);
        if (model.HasDomain) size += 1 + CodedOutputStream.ComputeStringSize(model.Domain);
        if (model.HasModelVersion) size += 1 + CodedOutputStream.ComputeInt64Size(model.ModelVersion);
        if (model.HasDocString) size += 1 + CodedOutputStream.ComputeStringSize(model.DocString);
        size += 1 + CodedOutputStream.ComputeLengthSize(GraphSize()) + GraphSize();
        foreach (var o in model.OpsetImport) size += 1 + CodedOutputStream.ComputeMessageSize(o);
        foreach (var p in model.MetadataProps) size += 1 + CodedOutputStream.ComputeMessageSize(p);
        foreach (var t in model.TrainingInfo) size += CodedOutputStream.ComputeTagSize(ModelProto.TrainingInfoFieldNumber) + CodedOutputStream.ComputeMessageSize(t);
        foreach (var f in model.Functions) size += CodedOutputStream.ComputeTagSize(ModelProto.FunctionsFieldNumber) + CodedOutputStream.ComputeMessageSize(f);
        foreach (var c in model.Configuration) size += CodedOutputStream.ComputeTagSize(ModelProto.ConfigurationFieldNumber) + CodedOutputStream.ComputeBytesSize(c);
        return size;
    }

    /// <summary>ModelProto's fields in number order, as its generated code writes them, with the graph (7) from its parts.</summary>
    public void InternalWriteTo(ref WriteContext ctx)
    {
        if (model.HasIrVersion) { ctx.WriteTag(ModelProto.IrVersionFieldNumber, WireFormat.WireType.Varint); ctx.WriteInt64(model.IrVersion); }
        if (model.HasProducerName) WriteString(ref ctx, ModelProto.ProducerNameFieldNumber, model.ProducerName);
        if (model.HasProducerVersion) WriteString(ref ctx, ModelProto.ProducerVersionFieldNumber, model.ProducerVersion);
        if (model.HasDomain) WriteString(ref ctx, ModelProto.DomainFieldNumber, model.Domain);
        if (model.HasModelVersion) { ctx.WriteTag(ModelProto.ModelVersionFieldNumber, WireFormat.WireType.Varint); ctx.WriteInt64(model.ModelVersion); }
        if (model.HasDocString) WriteString(ref ctx, ModelProto.DocStringFieldNumber, model.DocString);
        ctx.WriteTag(ModelProto.GraphFieldNumber, WireFormat.WireType.LengthDelimited);
        ctx.WriteLength(GraphSize());
        WriteGraph(ref ctx);
        WriteMessages(ref ctx, ModelProto.OpsetImportFieldNumber, model.OpsetImport);
        WriteMessages(ref ctx, ModelProto.MetadataPropsFieldNumber, model.MetadataProps);
        WriteMessages(ref ctx, ModelProto.TrainingInfoFieldNumber, model.TrainingInfo);
        WriteMessages(ref ctx, ModelProto.FunctionsFieldNumber, model.Functions);
        foreach (var c in model.Configuration)
        {
            ctx.WriteTag(ModelProto.ConfigurationFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteBytes(c);
        }
    }

    /// <summary>The graph's size, each node's sized once on the way (kept for writing it).</summary>
    private int GraphSize()
    {
        if (_graphSize >= 0) return _graphSize;
        var nodeSizes = _nodeSizes = new int[graph.Node.Count];
        int size = 0;
        for (int i = 0; i < nodeSizes.Length; i++)
        {
            int n = nodeSizes[i] = graph.Node[i].CalculateSize();
            size += 1 + CodedOutputStream.ComputeLengthSize(n) + n;
        }
        for (int i = 0; i < (wireNodes?.Count ?? 0); i++)
        {
            int n = wireNodes!.Size(i);
            size += 1 + CodedOutputStream.ComputeLengthSize(n) + n;
        }
        if (graph.HasName) size += 1 + CodedOutputStream.ComputeStringSize(graph.Name);
        foreach (var t in graph.Initializer) size += 1 + CodedOutputStream.ComputeMessageSize(t);
        if (graph.HasDocString) size += 1 + CodedOutputStream.ComputeStringSize(graph.DocString);
        foreach (var v in graph.Input) size += 1 + CodedOutputStream.ComputeMessageSize(v);
        foreach (var v in graph.Output) size += 1 + CodedOutputStream.ComputeMessageSize(v);
        foreach (var (name, type) in valueInfos)
        {
            int v = ValueInfoSize(name, type);
            size += 1 + CodedOutputStream.ComputeLengthSize(v) + v;
        }
        foreach (var a in graph.QuantizationAnnotation) size += 1 + CodedOutputStream.ComputeMessageSize(a);
        foreach (var s in graph.SparseInitializer) size += 1 + CodedOutputStream.ComputeMessageSize(s);
        foreach (var p in graph.MetadataProps) size += CodedOutputStream.ComputeTagSize(GraphProto.MetadataPropsFieldNumber) + CodedOutputStream.ComputeMessageSize(p);
        return _graphSize = size;
    }

    /// <summary>GraphProto's fields in number order, as its generated code writes them, value_info (13) from the parts.</summary>
    private void WriteGraph(ref WriteContext ctx)
    {
        var nodeSizes = _nodeSizes!;
        for (int i = 0; i < nodeSizes.Length; i++)
        {
            ctx.WriteTag(GraphProto.NodeFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteLength(nodeSizes[i]);
            ((IBufferMessage)graph.Node[i]).InternalWriteTo(ref ctx);
        }
        for (int i = 0; i < (wireNodes?.Count ?? 0); i++)
        {
            ctx.WriteTag(GraphProto.NodeFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteLength(wireNodes!.Size(i));
            wireNodes.Write(ref ctx, i);
        }
        if (graph.HasName) WriteString(ref ctx, GraphProto.NameFieldNumber, graph.Name);
        foreach (var t in graph.Initializer)
        {
            ctx.WriteTag(GraphProto.InitializerFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteMessage(t);
            // Written: a weight read from a mapped file leaves the process (the page cache keeps it).
            MappedMemory.Release(t.RawData.Memory);
        }
        if (graph.HasDocString) WriteString(ref ctx, GraphProto.DocStringFieldNumber, graph.DocString);
        WriteMessages(ref ctx, GraphProto.InputFieldNumber, graph.Input);
        WriteMessages(ref ctx, GraphProto.OutputFieldNumber, graph.Output);
        foreach (var (name, type) in valueInfos)
        {
            ctx.WriteTag(GraphProto.ValueInfoFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteLength(ValueInfoSize(name, type));
            WriteString(ref ctx, ValueInfoProto.NameFieldNumber, name);
            ctx.WriteTag(ValueInfoProto.TypeFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteBytes(type);
        }
        WriteMessages(ref ctx, GraphProto.QuantizationAnnotationFieldNumber, graph.QuantizationAnnotation);
        WriteMessages(ref ctx, GraphProto.SparseInitializerFieldNumber, graph.SparseInitializer);
        WriteMessages(ref ctx, GraphProto.MetadataPropsFieldNumber, graph.MetadataProps);
    }

    /// <summary>A ValueInfoProto of a name and a type (fields 1 and 2).</summary>
    private static int ValueInfoSize(string name, ByteString type) =>
        1 + CodedOutputStream.ComputeStringSize(name) + 1 + CodedOutputStream.ComputeBytesSize(type);

    private static void WriteString(ref WriteContext ctx, int field, string value)
    {
        ctx.WriteTag(field, WireFormat.WireType.LengthDelimited);
        ctx.WriteString(value);
    }

    private static void WriteMessages<T>(ref WriteContext ctx, int field, IReadOnlyList<T> messages) where T : IMessage
    {
        for (int i = 0; i < messages.Count; i++)
        {
            ctx.WriteTag(field, WireFormat.WireType.LengthDelimited);
            ctx.WriteMessage(messages[i]);
        }
    }
}
