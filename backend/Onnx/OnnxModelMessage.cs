using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mopt.Onnx.Proto;

namespace Mopt.Backend.Onnx;

/// <summary>
/// A ModelProto on the wire, written from the exporter's parts: the model's own fields, and its main graph's own fields
/// with its nodes, inputs, outputs, initializers and value_info as the IR holds them (<see cref="OnnxWireGraph"/>,
/// <see cref="OnnxWireNodes"/>). The bytes are those of the assembled ModelProto
/// (<c>OnnxExporter.ToModel(m).ToByteArray()</c>, which the tests check); the generated classes stay the schema and still
/// write the model's opsets and metadata, and every subgraph and other message the wire writers do not spell.
/// <para>
/// Why not the assembled message: Google.Protobuf does not keep a message's size, so writing a nested message sizes it
/// once for every level above it (a value_info's type six times, a node's attributes four), and every tensor, value and
/// node was several objects built to be written once. Here the graph and each of its parts are sized once, then written.
/// </para>
/// <para>
/// It is written in segments (<see cref="WriteSegment(IBufferWriter{byte})"/>): a segment ends after the tag and length
/// of a large initializer's raw_data, whose bytes the caller writes to the file from the blob itself (protobuf would
/// copy them into its buffer first: a tenth of a deploy run of a net with 1.5 MB of weights), then the next segment
/// starts. It implements <see cref="IBufferMessage"/> only to be handed a <see cref="WriteContext"/> for each segment
/// (by <c>MessageExtensions.WriteTo(IBufferWriter)</c> and <c>CodedOutputStream.WriteRawMessage</c>); it is never read.
/// </para>
/// </summary>
/// <param name="graph">The main graph's own fields (name, doc_string, quantization annotations, sparse initializers, metadata): its nodes, inputs, outputs, initializers and value_info are in <paramref name="wire"/>.</param>
/// <param name="apartBytes">The size from which an initializer's raw_data is left to the caller (ends a segment).</param>
internal sealed class OnnxModelMessage(ModelProto model, GraphProto graph, OnnxWireGraph wire, int apartBytes) : IBufferMessage
{
    private int _graphSize = -1;
    // The next initializer to write: -1 before the first segment (the model's head and the graph's nodes not written yet).
    private int _nextInitializer = -1;
    // The raw bytes the segment just written stopped before; null when it ended the model.
    private ReadOnlyMemory<byte>? _apart;
    private bool _done;

    /// <summary>Writes the next segment to <paramref name="output"/>; returns the raw bytes to write after it (then call again), or null at the end.</summary>
    public ReadOnlyMemory<byte>? WriteSegment(System.Buffers.IBufferWriter<byte> output)
    {
        this.WriteTo(output);
        return _apart;
    }

    /// <summary>As <see cref="WriteSegment(System.Buffers.IBufferWriter{byte})"/>, into a coded stream (flush it before writing the bytes returned).</summary>
    public ReadOnlyMemory<byte>? WriteSegment(CodedOutputStream output)
    {
        output.WriteRawMessage(this);
        return _apart;
    }

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

    /// <summary>The next segment of ModelProto's fields, in number order as its generated code writes them, with the graph (7) from its parts.</summary>
    public void InternalWriteTo(ref WriteContext ctx)
    {
        if (_done) throw new InvalidOperationException("the ONNX model is written already");
        if (_nextInitializer < 0)
        {
            WriteHead(ref ctx);
            _nextInitializer = 0;
        }
        _apart = wire.WriteInitializers(ref ctx, ref _nextInitializer, apartBytes);
        if (_apart is not null) return;
        WriteTail(ref ctx);
        _done = true;
    }

    /// <summary>The model's fields before the graph (1-6), the graph's tag and length, and the graph's fields before its initializers: node (1), name (2).</summary>
    private void WriteHead(ref WriteContext ctx)
    {
        if (model.HasIrVersion) { ctx.WriteTag(ModelProto.IrVersionFieldNumber, WireFormat.WireType.Varint); ctx.WriteInt64(model.IrVersion); }
        if (model.HasProducerName) WriteString(ref ctx, ModelProto.ProducerNameFieldNumber, model.ProducerName);
        if (model.HasProducerVersion) WriteString(ref ctx, ModelProto.ProducerVersionFieldNumber, model.ProducerVersion);
        if (model.HasDomain) WriteString(ref ctx, ModelProto.DomainFieldNumber, model.Domain);
        if (model.HasModelVersion) { ctx.WriteTag(ModelProto.ModelVersionFieldNumber, WireFormat.WireType.Varint); ctx.WriteInt64(model.ModelVersion); }
        if (model.HasDocString) WriteString(ref ctx, ModelProto.DocStringFieldNumber, model.DocString);
        ctx.WriteTag(ModelProto.GraphFieldNumber, WireFormat.WireType.LengthDelimited);
        ctx.WriteLength(GraphSize());
        var nodes = wire.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            ctx.WriteTag(GraphProto.NodeFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteLength(nodes.Size(i));
            nodes.Write(ref ctx, i);
        }
        if (graph.HasName) WriteString(ref ctx, GraphProto.NameFieldNumber, graph.Name);
    }

    /// <summary>
    /// The graph's fields after the initializers (doc_string (10), input (11), output (12), value_info (13), ...), then
    /// the model's after the graph.
    /// </summary>
    private void WriteTail(ref WriteContext ctx)
    {
        if (graph.HasDocString) WriteString(ref ctx, GraphProto.DocStringFieldNumber, graph.DocString);
        wire.WriteInputs(ref ctx);
        wire.WriteOutputs(ref ctx);
        wire.WriteValueInfos(ref ctx);
        WriteMessages(ref ctx, GraphProto.QuantizationAnnotationFieldNumber, graph.QuantizationAnnotation);
        WriteMessages(ref ctx, GraphProto.SparseInitializerFieldNumber, graph.SparseInitializer);
        WriteMessages(ref ctx, GraphProto.MetadataPropsFieldNumber, graph.MetadataProps);
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

    /// <summary>The graph's size, each of its parts sized once on the way (kept for writing it).</summary>
    private int GraphSize()
    {
        if (_graphSize >= 0) return _graphSize;
        var nodes = wire.Nodes;
        int size = 0;
        for (int i = 0; i < nodes.Count; i++)
        {
            int n = nodes.Size(i);
            size += 1 + CodedOutputStream.ComputeLengthSize(n) + n;
        }
        if (graph.HasName) size += 1 + CodedOutputStream.ComputeStringSize(graph.Name);
        size += wire.Size();
        if (graph.HasDocString) size += 1 + CodedOutputStream.ComputeStringSize(graph.DocString);
        foreach (var a in graph.QuantizationAnnotation) size += 1 + CodedOutputStream.ComputeMessageSize(a);
        foreach (var s in graph.SparseInitializer) size += 1 + CodedOutputStream.ComputeMessageSize(s);
        foreach (var p in graph.MetadataProps) size += CodedOutputStream.ComputeTagSize(GraphProto.MetadataPropsFieldNumber) + CodedOutputStream.ComputeMessageSize(p);
        return _graphSize = size;
    }

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
