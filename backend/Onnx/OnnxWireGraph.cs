using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Google.Protobuf;
using Mopt.Ir;
using Mopt.Onnx.Proto;

namespace Mopt.Backend.Onnx;

/// <summary>
/// The main graph's inputs, outputs, initializers and value_info as the exporter reads them off the IR, sized once and
/// written straight to the wire by <see cref="OnnxModelMessage"/> (with its nodes, <see cref="OnnxWireNodes"/>):
/// TensorProto's, ValueInfoProto's and TypeProto's fields in number order, as their generated code writes them (the
/// bytes are those of <c>OnnxExporter.ToModel</c>, which builds the objects; a test compares the two).
/// <para>
/// Why: each weight was a TensorProto with a list of dims, and each value_info's type a TypeProto of five messages
/// (encoded once per distinct type, looked up by hashing the type): here an initializer is its name, data type, dims
/// and bytes as the IR holds them, and a type is sized and written from the IR type. What the writer does not spell
/// itself (a string initializer, a value of a sequence, map or other non-tensor type) stays a message.
/// </para>
/// </summary>
internal sealed class OnnxWireGraph
{
    /// <summary>An initializer: raw data inline, or at <see cref="ExternalOffset"/> of <see cref="ExternalLocation"/>; or <see cref="Proto"/>.</summary>
    private record struct Initializer(
        string Name, int DataType, long[] Dims, ReadOnlyMemory<byte> Data,
        string? ExternalLocation, long ExternalOffset, TensorProto? Proto);

    /// <summary>
    /// A value_info of a tensor type (<see cref="Shape"/> null: unranked), or <see cref="Proto"/>. What only a graph's
    /// inputs and outputs have is in <see cref="More"/>: a value_info entry (one per result) stays 32 bytes.
    /// </summary>
    private readonly record struct ValueInfo(string Name, int DataType, long[]? Shape, Extras? More)
    {
        public IReadOnlyList<string>? DimParams => More?.DimParams;
        public string? DocString => More?.DocString;
        public ValueInfoProto? Proto => More?.Proto;
    }

    /// <summary>A graph input's or output's dim_params and doc string, or the ValueInfoProto of one the writer does not spell.</summary>
    private sealed record Extras(IReadOnlyList<string>? DimParams, string? DocString, ValueInfoProto? Proto);

    private static Extras? ExtrasOf(IReadOnlyList<string>? dimParams, string? docString) =>
        dimParams is null && docString is null ? null : new Extras(dimParams, docString, null);

    private readonly List<Initializer> _initializers;
    private readonly List<ValueInfo> _inputs = new();
    private readonly List<ValueInfo> _outputs = new();
    private readonly List<ValueInfo> _valueInfos;
    // Each entry's encoded size, and a value's TypeProto.Tensor's and its shape's (kept from sizing for writing):
    // initializers, inputs, outputs, value_info, in that order.
    private int[]? _sizes;
    private int[]? _tensorSizes;
    private int[]? _shapeSizes;

    public OnnxWireNodes Nodes { get; }

    /// <param name="nodes">The nodes' list, sized for them.</param>
    /// <param name="initializers">How many initializers to expect, and <paramref name="valueInfos"/> value_info at most (the lists are sized for them, not grown).</param>
    public OnnxWireGraph(OnnxWireNodes nodes, int initializers = 0, int valueInfos = 0)
    {
        Nodes = nodes;
        _initializers = new List<Initializer>(initializers);
        _valueInfos = new List<ValueInfo>(valueInfos);
    }

    /// <summary>The initializers' raw bytes, all inline or external (what decides whether data goes external).</summary>
    public long InitializerBytes { get; private set; }

    public void AddInitializer(string name, int dataType, IReadOnlyList<long> dims, ReadOnlyMemory<byte> data)
    {
        _initializers.Add(new Initializer(name, dataType, ArrayOf(dims), data, null, 0, null));
        InitializerBytes += data.Length;
    }

    /// <summary>An initializer the writer does not spell itself (a string tensor).</summary>
    public void AddInitializer(TensorProto tensor) => _initializers.Add(new Initializer(tensor.Name, 0, [], default, null, 0, tensor));

    public void AddInput(string name, int dataType, IReadOnlyList<long>? shape, IReadOnlyList<string>? dimParams, string? docString) =>
        _inputs.Add(new ValueInfo(name, dataType, ArrayOf(shape), ExtrasOf(dimParams, docString)));

    public void AddInput(ValueInfoProto input) => _inputs.Add(new ValueInfo(input.Name, 0, null, new Extras(null, null, input)));

    public void AddOutput(string name, int dataType, IReadOnlyList<long>? shape, IReadOnlyList<string>? dimParams, string? docString) =>
        _outputs.Add(new ValueInfo(name, dataType, ArrayOf(shape), ExtrasOf(dimParams, docString)));

    public void AddOutput(ValueInfoProto output) => _outputs.Add(new ValueInfo(output.Name, 0, null, new Extras(null, null, output)));

    /// <summary>A value_info of a ranked tensor.</summary>
    public void AddValueInfo(string name, int dataType, IReadOnlyList<long> shape) =>
        _valueInfos.Add(new ValueInfo(name, dataType, ArrayOf(shape), null));

    /// <summary>
    /// Dims as an array (a tensor type's shape is one already): sizing and writing read them by index with no call
    /// through an interface per dim.
    /// </summary>
    [return: NotNullIfNotNull(nameof(dims))]
    private static long[]? ArrayOf(IReadOnlyList<long>? dims) => dims as long[] ?? dims?.ToArray();

    public bool IsOutput(string name)
    {
        foreach (var o in _outputs) if (o.Name == name) return true;
        return false;
    }

    /// <summary>
    /// Every initializer the exporter added as an input (<c>onnx.initializers_as_inputs</c>), typed by its data type and
    /// dims (<paramref name="protoInput"/> makes a string initializer's).
    /// </summary>
    public void AddInitializersAsInputs(Func<TensorProto, ValueInfoProto> protoInput)
    {
        foreach (var t in _initializers)
            if (t.Proto is { } proto) AddInput(protoInput(proto));
            else AddInput(t.Name, t.DataType, t.Dims, null, null);
    }

    /// <summary>
    /// Moves the data of every initializer of at least <see cref="OnnxExportOptions.ExternalMinBytes"/> to
    /// <paramref name="location"/> (aligned as the options say); returns where each moved tensor's bytes go.
    /// </summary>
    public List<(long Offset, ReadOnlyMemory<byte> Data)> MoveToExternal(string location, OnnxExportOptions options)
    {
        var moved = new List<(long, ReadOnlyMemory<byte>)>();
        long offset = 0;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_initializers);
        for (int i = 0; i < span.Length; i++)
        {
            ref var t = ref span[i];
            long size = t.Data.Length;
            if (t.Proto is not null || size < options.ExternalMinBytes) continue;
            long align = size >= options.AlignAbove ? options.LargeAlignment : options.SmallAlignment;
            offset = (offset + align - 1) / align * align;
            moved.Add((offset, t.Data));
            t.ExternalLocation = location;
            t.ExternalOffset = offset;
            offset += size;
        }
        return moved;
    }

    // ------------------------------------------------------------------ sizes

    /// <summary>The encoded size of the graph's initializers, inputs, outputs and value_info, tags included; each entry sized once.</summary>
    public int Size()
    {
        int count = _initializers.Count + _inputs.Count + _outputs.Count + _valueInfos.Count;
        var sizes = _sizes = new int[count];
        var tensorSizes = _tensorSizes = new int[count];
        var shapeSizes = _shapeSizes = new int[count];
        int size = 0, k = 0;
        foreach (var t in _initializers)
        {
            int n = sizes[k++] = InitializerSize(t);
            size += 1 + CodedOutputStream.ComputeLengthSize(n) + n;
        }
        foreach (var list in (ReadOnlySpan<List<ValueInfo>>)[_inputs, _outputs, _valueInfos])
            foreach (var v in list)
            {
                int n = sizes[k] = ValueInfoSize(v, out tensorSizes[k], out shapeSizes[k]);
                k++;
                size += 1 + CodedOutputStream.ComputeLengthSize(n) + n;
            }
        return size;
    }

    private static int InitializerSize(in Initializer t)
    {
        if (t.Proto is { } proto) return proto.CalculateSize();
        int size = 0;
        foreach (long dim in t.Dims) size += 1 + CodedOutputStream.ComputeInt64Size(dim);
        size += 1 + CodedOutputStream.ComputeInt32Size(t.DataType);
        size += 1 + CodedOutputStream.ComputeStringSize(t.Name);
        if (t.ExternalLocation is not { } location) return size + 1 + CodedOutputStream.ComputeLengthSize(t.Data.Length) + t.Data.Length;
        size += ExternalEntrySize("location", location);
        size += ExternalEntrySize("offset", t.ExternalOffset.ToString(CultureInfo.InvariantCulture));
        size += ExternalEntrySize("length", t.Data.Length.ToString(CultureInfo.InvariantCulture));
        return size + 1 + CodedOutputStream.ComputeEnumSize((int)TensorProto.Types.DataLocation.External);
    }

    /// <summary>A StringStringEntryProto in external_data, tag and length included.</summary>
    private static int ExternalEntrySize(string key, string value)
    {
        int n = EntrySize(key, value);
        return 1 + CodedOutputStream.ComputeLengthSize(n) + n;
    }

    private static int EntrySize(string key, string value) => 1 + CodedOutputStream.ComputeStringSize(key) + 1 + CodedOutputStream.ComputeStringSize(value);

    private static int ValueInfoSize(in ValueInfo v, out int tensorSize, out int shapeSize)
    {
        tensorSize = shapeSize = 0;
        if (v.Proto is { } proto) return proto.CalculateSize();
        tensorSize = TensorTypeSize(v, out shapeSize);
        int typeSize = TypeSize(tensorSize);
        int size = 1 + CodedOutputStream.ComputeStringSize(v.Name) + 1 + CodedOutputStream.ComputeLengthSize(typeSize) + typeSize;
        if (v.DocString is { } doc) size += 1 + CodedOutputStream.ComputeStringSize(doc);
        return size;
    }

    /// <summary>TypeProto { tensor_type (1): Tensor { elem_type (1), shape (2): TensorShapeProto { dim (1)... } } } of a Tensor's size.</summary>
    private static int TypeSize(int tensorSize) => 1 + CodedOutputStream.ComputeLengthSize(tensorSize) + tensorSize;

    private static int TensorTypeSize(in ValueInfo v, out int shapeSize)
    {
        int tensor = 1 + CodedOutputStream.ComputeInt32Size(v.DataType);
        shapeSize = 0;
        if (v.Shape is not { } shape) return tensor;
        for (int i = 0; i < shape.Length; i++)
        {
            int d = DimSize(shape[i], DimParam(v.DimParams, i));
            shapeSize += 1 + CodedOutputStream.ComputeLengthSize(d) + d;
        }
        return tensor + 1 + CodedOutputStream.ComputeLengthSize(shapeSize) + shapeSize;
    }

    /// <summary>A Dimension: dim_value (1) for a static dim, dim_param (2) for a named dynamic one, nothing for another.</summary>
    private static int DimSize(long dim, string? param) =>
        dim >= 0 ? 1 + CodedOutputStream.ComputeInt64Size(dim) : param is not null ? 1 + CodedOutputStream.ComputeStringSize(param) : 0;

    private static string? DimParam(IReadOnlyList<string>? dimParams, int i) =>
        dimParams is not null && i < dimParams.Count && dimParams[i].Length > 0 ? dimParams[i] : null;

    // ------------------------------------------------------------------ writing

    /// <summary>
    /// GraphProto's initializer (5) entries, in order, from the <paramref name="next"/>th on. Stops after the tag and
    /// length of a raw_data of at least <paramref name="apartBytes"/> bytes and returns those bytes (their entry's next
    /// is then the one after): the caller writes them to the file itself and calls again.
    /// </summary>
    /// <returns>The raw bytes to write before calling again, or null when every initializer is written.</returns>
    public ReadOnlyMemory<byte>? WriteInitializers(ref WriteContext ctx, ref int next, int apartBytes)
    {
        var sizes = _sizes!;
        for (int k = next; k < _initializers.Count; k++)
        {
            var t = _initializers[k];
            ctx.WriteTag(GraphProto.InitializerFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteLength(sizes[k]);
            if (t.Proto is { } proto)
            {
                ((IBufferMessage)proto).InternalWriteTo(ref ctx);
                continue;
            }
            for (int i = 0; i < t.Dims.Length; i++)
            {
                ctx.WriteTag(TensorProto.DimsFieldNumber, WireFormat.WireType.Varint);
                ctx.WriteInt64(t.Dims[i]);
            }
            ctx.WriteTag(TensorProto.DataTypeFieldNumber, WireFormat.WireType.Varint);
            ctx.WriteInt32(t.DataType);
            WriteString(ref ctx, TensorProto.NameFieldNumber, t.Name);
            if (t.ExternalLocation is not { } location)
            {
                ctx.WriteTag(TensorProto.RawDataFieldNumber, WireFormat.WireType.LengthDelimited);
                if (t.Data.Length >= apartBytes)
                {
                    ctx.WriteLength(t.Data.Length);
                    next = k + 1;
                    return t.Data;
                }
                ctx.WriteBytes(UnsafeByteOperations.UnsafeWrap(t.Data));
                // Written: a weight read from a mapped file leaves the process (the page cache keeps it).
                MappedMemory.Release(t.Data);
                continue;
            }
            WriteExternalEntry(ref ctx, "location", location);
            WriteExternalEntry(ref ctx, "offset", t.ExternalOffset.ToString(CultureInfo.InvariantCulture));
            WriteExternalEntry(ref ctx, "length", t.Data.Length.ToString(CultureInfo.InvariantCulture));
            ctx.WriteTag(TensorProto.DataLocationFieldNumber, WireFormat.WireType.Varint);
            ctx.WriteEnum((int)TensorProto.Types.DataLocation.External);
        }
        next = _initializers.Count;
        return null;
    }

    private static void WriteExternalEntry(ref WriteContext ctx, string key, string value)
    {
        ctx.WriteTag(TensorProto.ExternalDataFieldNumber, WireFormat.WireType.LengthDelimited);
        ctx.WriteLength(EntrySize(key, value));
        WriteString(ref ctx, StringStringEntryProto.KeyFieldNumber, key);
        WriteString(ref ctx, StringStringEntryProto.ValueFieldNumber, value);
    }

    /// <summary>GraphProto's input (11) entries.</summary>
    public void WriteInputs(ref WriteContext ctx) => WriteValueInfos(ref ctx, GraphProto.InputFieldNumber, _inputs, _initializers.Count);

    /// <summary>GraphProto's output (12) entries.</summary>
    public void WriteOutputs(ref WriteContext ctx) => WriteValueInfos(ref ctx, GraphProto.OutputFieldNumber, _outputs, _initializers.Count + _inputs.Count);

    /// <summary>GraphProto's value_info (13) entries.</summary>
    public void WriteValueInfos(ref WriteContext ctx) =>
        WriteValueInfos(ref ctx, GraphProto.ValueInfoFieldNumber, _valueInfos, _initializers.Count + _inputs.Count + _outputs.Count);

    /// <summary>ValueInfoProto's fields in number order: name (1), type (2), doc_string (3).</summary>
    private void WriteValueInfos(ref WriteContext ctx, int field, List<ValueInfo> list, int first)
    {
        var sizes = _sizes!;
        var tensorSizes = _tensorSizes!;
        var shapeSizes = _shapeSizes!;
        for (int i = 0; i < list.Count; i++)
        {
            var v = list[i];
            ctx.WriteTag(field, WireFormat.WireType.LengthDelimited);
            ctx.WriteLength(sizes[first + i]);
            if (v.Proto is { } proto)
            {
                ((IBufferMessage)proto).InternalWriteTo(ref ctx);
                continue;
            }
            WriteString(ref ctx, ValueInfoProto.NameFieldNumber, v.Name);
            ctx.WriteTag(ValueInfoProto.TypeFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteLength(TypeSize(tensorSizes[first + i]));
            WriteTensorType(ref ctx, v, tensorSizes[first + i], shapeSizes[first + i]);
            if (v.DocString is { } doc) WriteString(ref ctx, ValueInfoProto.DocStringFieldNumber, doc);
        }
    }

    /// <summary>A TypeProto's fields (its length written by the caller).</summary>
    private static void WriteTensorType(ref WriteContext ctx, in ValueInfo v, int tensor, int shapeSize)
    {
        ctx.WriteTag(TypeProto.TensorTypeFieldNumber, WireFormat.WireType.LengthDelimited);
        ctx.WriteLength(tensor);
        ctx.WriteTag(TypeProto.Types.Tensor.ElemTypeFieldNumber, WireFormat.WireType.Varint);
        ctx.WriteInt32(v.DataType);
        if (v.Shape is not { } shape) return;
        ctx.WriteTag(TypeProto.Types.Tensor.ShapeFieldNumber, WireFormat.WireType.LengthDelimited);
        ctx.WriteLength(shapeSize);
        for (int i = 0; i < shape.Length; i++)
        {
            var param = DimParam(v.DimParams, i);
            ctx.WriteTag(TensorShapeProto.DimFieldNumber, WireFormat.WireType.LengthDelimited);
            ctx.WriteLength(DimSize(shape[i], param));
            if (shape[i] >= 0)
            {
                ctx.WriteTag(TensorShapeProto.Types.Dimension.DimValueFieldNumber, WireFormat.WireType.Varint);
                ctx.WriteInt64(shape[i]);
            }
            else if (param is not null) WriteString(ref ctx, TensorShapeProto.Types.Dimension.DimParamFieldNumber, param);
        }
    }

    private static void WriteString(ref WriteContext ctx, int field, string value)
    {
        ctx.WriteTag(field, WireFormat.WireType.LengthDelimited);
        ctx.WriteString(value);
    }
}
