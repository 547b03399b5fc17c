using System.Buffers;
using Google.Protobuf;
using Mopt.Dialects.Onnx;
using Mopt.Ir;
using Mopt.Onnx.Proto;
using AttrType = Mopt.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace Mopt.Backend.Onnx;

/// <summary>When tensors go to an external data file <c>&lt;name&gt;.onnx.data</c> beside the model.</summary>
public enum ExternalDataMode
{
    /// <summary>Only when the model would not fit protobuf's 2 GiB limit otherwise.</summary>
    Auto,
    /// <summary>Every initializer of at least <see cref="OnnxExportOptions.ExternalMinBytes"/> bytes.</summary>
    Always,
    /// <summary>Never (a model over 2 GiB is then an error).</summary>
    Never,
}

public sealed record OnnxExportOptions
{
    public ExternalDataMode ExternalData { get; init; } = ExternalDataMode.Auto;
    /// <summary>In <see cref="ExternalDataMode.Auto"/>, initializer bytes above which the data goes external (protobuf's limit is 2 GiB for the whole file).</summary>
    public long AutoExternalAbove { get; init; } = (2L << 30) - (64L << 20);
    /// <summary>Initializers smaller than this stay inside the model file even when data goes external (as onnx's size_threshold).</summary>
    public int ExternalMinBytes { get; init; } = 1024;
    /// <summary>Tensors of at least this many bytes start at a multiple of <see cref="LargeAlignment"/> in the data file (so they can be memory-mapped).</summary>
    public long AlignAbove { get; init; } = 1 << 20;
    public int LargeAlignment { get; init; } = 64 * 1024;
    public int SmallAlignment { get; init; } = 16;

    public static readonly OnnxExportOptions Default = new();
}

/// <summary>Writes <c>.onnx</c> files.</summary>
public sealed class OnnxModelWriter(OnnxExportOptions? options = null) : IModelWriter
{
    public string Format => "ONNX";
    public bool CanWrite(string path) => FileNames.HasExtension(path, ".onnx");
    public void Write(MirModule module, Stream output, string finalPath) => OnnxExporter.Write(module, output, finalPath, options);
}

/// <summary>
/// Module → ONNX ModelProto, the inverse of the importer (docs/formats/onnx.md): names come back from
/// <c>loc</c>, <c>mo.outputs</c> and <c>mo.name</c>; initializer bytes are written from the blobs without a copy.
/// </summary>
public sealed class OnnxExporter
{
    private readonly MirModule _module;
    private readonly Dictionary<Value, string> _names;
    private readonly HashSet<string> _tensorNames;
    // Every node's location name in the module: made only when a name is generated (a suffix or a new name), which
    // must not take one of them; most modules name every node and never need it.
    private HashSet<string>? _nodeNames;
    private readonly MainSize _size;
    private readonly HashSet<string> _assignedNodeNames;
    private readonly HashSet<string> _usedDomains = new(StringComparer.Ordinal);
    // What only NodeProtos and ToModel use, made at the first use (a write of a graph without them never does).
    private List<AttributeProto>? _nodeAttributes;
    // One TypeProto per distinct type (a message may sit in several parents: it is only written, never changed).
    private Dictionary<MirType, TypeProto?>? _typeProtos;
    // ToModel's main graph value_info, kept as names and types until the graph is put together (BuildWhole).
    private List<(string Name, MirType Type)>? _mainValueInfos;
    private int _nextNodeName;
    // An op name's ONNX op_type and domain, split once per name (not per node).
    private readonly Dictionary<string, (string OpType, string Domain)> _opTypes = new(StringComparer.Ordinal);
    // When writing (not ToModel): the main graph's nodes, inputs, outputs, initializers and value_info, kept for the
    // wire instead of as NodeProtos, ValueInfoProtos and TensorProtos.
    private OnnxWireGraph? _wire;

    // The function written as the main graph (null: none, Build says why), and how many functions the module has.
    private readonly FuncOp? _main;
    private readonly int _functionCount;

    /// <param name="sized">Whether to count the main graph first (<see cref="MainGraphSize"/>) and size the tables for it.</param>
    private OnnxExporter(MirModule module, bool sized = false)
    {
        _module = module;
        _main = MainOf(module, out _functionCount);
        var size = _size = sized && _main is { } main ? MainGraphSize(main) : default;
        _names = new Dictionary<Value, string>(size.Values);
        _tensorNames = new HashSet<string>(size.Values, StringComparer.Ordinal);
        _assignedNodeNames = new HashSet<string>(size.Nodes, StringComparer.Ordinal);
    }

    /// <summary>What the main graph holds: nodes, initializers, values (arguments and results), node inputs and outputs, attributes.</summary>
    private readonly record struct MainSize(int Nodes, int Initializers, int Values, int Names, int Attributes);

    /// <summary>
    /// @main, else the module's only function (as <see cref="MirModule.MainFunction"/>), found in one loop over the
    /// module's ops (MainFunction and FindFunction are LINQ queries, and the exporter asked three); null when neither.
    /// </summary>
    private static FuncOp? MainOf(MirModule module, out int functions)
    {
        FuncOp? main = null, first = null;
        functions = 0;
        var ops = module.Body.Operations;
        for (int i = 0; i < ops.Count; i++)
        {
            if (ops[i].Name != FuncOp.OpName) continue;
            var f = new FuncOp(ops[i]);
            functions++;
            first ??= f;
            if (main is null && f.Name == "main") main = f;
        }
        return main ?? (functions == 1 ? first : null);
    }

    /// <summary>
    /// The main function's counts, what the lists are created at: about right, not a bound (an Identity added for an
    /// output is not counted; a list grows past it).
    /// </summary>
    private static MainSize MainGraphSize(FuncOp func)
    {
        int nodes = 0, initializers = 0, values = func.Arguments.Count, names = 0, attributes = 0;
        var ops = func.Body.Operations;
        for (int i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            values += op.Results.Count;
            if (op.Name == "onnx.Constant") initializers++;
            else nodes++;
            names += op.OperandCount + op.Results.Count;
            foreach (var attr in op.AttributeSpan)
                if (!attr.Name.StartsWith("mo.", StringComparison.Ordinal)) attributes++;
        }
        return new MainSize(nodes, initializers, values, names, attributes);
    }

    /// <summary>The model, with every initializer's data inline.</summary>
    public static ModelProto ToModel(MirModule module) => new OnnxExporter(module).BuildWhole();

    /// <summary>
    /// The model, and the ONNX tensor name each value was written under (subgraph values included): what a caller
    /// needs to read intermediate values back out of a run, e.g. calibration.
    /// </summary>
    public static ModelProto ToModel(MirModule module, out IReadOnlyDictionary<Value, string> names)
    {
        var exporter = new OnnxExporter(module);
        var model = exporter.BuildWhole();
        names = exporter._names.Where(kv => kv.Value.Length > 0).ToDictionary(kv => kv.Key, kv => kv.Value);
        return model;
    }

    /// <summary>Writes the model to <paramref name="output"/>; external data (if any) goes beside <paramref name="finalPath"/>.</summary>
    public static void Write(MirModule module, Stream output, string finalPath, OnnxExportOptions? options = null)
    {
        options ??= OnnxExportOptions.Default;
        var exporter = new OnnxExporter(module, sized: true);
        var size = exporter._size;
        var wire = exporter._wire = new OnnxWireGraph(new OnnxWireNodes(size.Nodes, size.Names, size.Attributes), size.Initializers, size.Values);
        var model = exporter.Build(out var graph);
        long total = wire.InitializerBytes;
        bool external = options.ExternalData switch
        {
            ExternalDataMode.Always => true,
            ExternalDataMode.Never => false,
            _ => total > options.AutoExternalAbove,
        };
        if (!external && total > options.AutoExternalAbove)
            throw new MirException($"cannot write '{finalPath}': its {total} bytes of weights do not fit one protobuf file (2 GiB); allow external data");
        if (external) MoveToExternalData(wire, finalPath, options);
        // A large weight goes from its blob to the file (no copy into a buffer): with what was buffered before it, in one
        // call, when the output can (AtomicFile's); else on its own, from AtomicFile's direct-write size.
        var message = new OnnxModelMessage(model, graph, wire, output is IPayloadWriter payloads ? payloads.PayloadBytes : AtomicFile.DirectWriteBytes);
        if (output is IBufferWriter<byte> buffered)
        {
            // Straight into the stream's buffer (AtomicFile's): no buffer of protobuf's own to fill and copy out.
            while (message.WriteSegment(buffered) is { } apart) WriteApart(output, apart);
            return;
        }
        var coded = new CodedOutputStream(output, leaveOpen: true);
        while (message.WriteSegment(coded) is { } apart)
        {
            coded.Flush();
            WriteApart(output, apart);
        }
        coded.Flush();
    }

    /// <summary>An initializer's raw bytes, written as they are.</summary>
    private static void WriteApart(Stream output, ReadOnlyMemory<byte> data)
    {
        IPayloadWriter.Write(output, data);
        MappedMemory.Release(data); // written: a mapped weight's pages leave the process (the page cache keeps them)
    }

    /// <summary>Writes <paramref name="path"/> (and its external data) via temporary files and renames.</summary>
    public static void WriteFile(MirModule module, string path, OnnxExportOptions? options = null) =>
        AtomicFile.Write(path, s => Write(module, s, path, options));

    // ------------------------------------------------------------------ external data

    private static void MoveToExternalData(OnnxWireGraph wire, string finalPath, OnnxExportOptions options)
    {
        var dataPath = Path.GetFullPath(finalPath) + ".data";
        var moved = wire.MoveToExternal(Path.GetFileName(dataPath), options);
        AtomicFile.Write(dataPath, stream =>
        {
            long at = 0;
            var zeros = new byte[Math.Max(options.LargeAlignment, options.SmallAlignment)];
            foreach (var (start, data) in moved)
            {
                if (start > at) stream.Write(zeros, 0, (int)(start - at));
                stream.Write(data.Span);
                MappedMemory.Release(data); // written: a mapped weight's pages leave the process
                at = start + data.Length;
            }
        });
    }

    // ------------------------------------------------------------------ model

    /// <summary>The whole ModelProto, its graph's value_info included.</summary>
    private ModelProto BuildWhole()
    {
        var model = Build(out var graph);
        foreach (var (name, type) in _mainValueInfos ?? []) graph.ValueInfo.Add(new ValueInfoProto { Name = name, Type = TypeProtoOf(type) });
        model.Graph = graph;
        return model;
    }

    /// <summary>
    /// The model without its graph, and the graph without its value_info (<see cref="_mainValueInfos"/>): the two are
    /// put together by <see cref="BuildWhole"/>. When writing, the graph holds only its own fields (name, doc string,
    /// metadata, ...): its nodes, inputs, outputs, initializers and value_info are in <see cref="_wire"/>, and
    /// <see cref="OnnxModelMessage"/> writes them together.
    /// </summary>
    private ModelProto Build(out GraphProto graph)
    {
        if (_functionCount == 0) throw new MirException("cannot write ONNX: the module has no function");
        var func = _main ?? throw new MirException("cannot write ONNX: the module has several functions and none is @main");

        var m = _module.Op;
        var model = new ModelProto();
        graph = ExportMain(func);
        graph.Name = _module.Name ?? "main";
        if (m.GetString("onnx.graph_doc_string") is { } gdoc) graph.DocString = gdoc;
        AddProps(graph.MetadataProps, m.GetAttr("onnx.graph_metadata_props"));
        foreach (var bytes in BytesList(m, "onnx.quantization_annotation")) graph.QuantizationAnnotation.Add(TensorAnnotation.Parser.ParseFrom(bytes.Span));

        // Opsets: the imported ones, the default domain at onnx.opset, and any domain an op uses.
        long? opset = m.GetInt("onnx.opset");
        var opsets = new List<OperatorSetIdProto>();
        if (m.GetAttr("onnx.opset_import") is DictionaryAttr imports)
            foreach (var e in imports.Entries)
                if (e.Value is IntegerAttr v)
                {
                    var domain = e.Name == "ai.onnx" ? "" : e.Name;
                    opsets.Add(new OperatorSetIdProto { Domain = domain, Version = domain.Length == 0 && opset is long o ? o : v.Value });
                }
        if (IndexOfDomain(opsets, "") < 0 && (_usedDomains.Contains("") || opset is not null))
            opsets.Insert(0, new OperatorSetIdProto { Domain = "", Version = opset ?? 17 });
        foreach (var d in _usedDomains.Order(StringComparer.Ordinal))
            if (IndexOfDomain(opsets, d) < 0) opsets.Add(new OperatorSetIdProto { Domain = d, Version = 1 });
        model.OpsetImport.AddRange(opsets);
        int defaultDomain = IndexOfDomain(opsets, "");
        long defaultOpset = defaultDomain >= 0 ? opsets[defaultDomain].Version : 17;

        model.IrVersion = m.GetInt("onnx.ir_version") ?? IrVersionFor(defaultOpset);
        model.ProducerName = m.GetString("onnx.producer_name") ?? "mopt";
        if (m.GetString("onnx.producer_version") is { } pv) model.ProducerVersion = pv;
        if (m.GetString("onnx.domain") is { } dom) model.Domain = dom;
        if (m.GetInt("onnx.model_version") is long mv) model.ModelVersion = mv;
        if (m.GetString("onnx.doc_string") is { } doc) model.DocString = doc;
        AddProps(model.MetadataProps, m.GetAttr("onnx.metadata_props"));
        foreach (var bytes in BytesList(m, "onnx.functions")) model.Functions.Add(FunctionProto.Parser.ParseFrom(bytes.Span));
        foreach (var bytes in BytesList(m, "onnx.training_info")) model.TrainingInfo.Add(TrainingInfoProto.Parser.ParseFrom(bytes.Span));
        foreach (var bytes in BytesList(m, "onnx.configuration")) model.Configuration.Add(ByteString.CopyFrom(bytes.Span));
        return model;
    }

    /// <summary>Where <paramref name="domain"/>'s opset is in <paramref name="opsets"/>, or -1 (a loop: a query's closures were objects per write).</summary>
    private static int IndexOfDomain(List<OperatorSetIdProto> opsets, string domain)
    {
        for (int i = 0; i < opsets.Count; i++)
            if (opsets[i].Domain == domain) return i;
        return -1;
    }

    /// <summary>The IR version that goes with an opset when the module does not say (onnx/docs/Versioning.md).</summary>
    private static long IrVersionFor(long opset) => opset switch
    {
        <= 8 => 3,
        9 => 4,
        10 => 5,
        11 => 6,
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    private static void AddProps(Google.Protobuf.Collections.RepeatedField<StringStringEntryProto> into, Attr? attr)
    {
        if (attr is not DictionaryAttr dict) return;
        foreach (var e in dict.Entries)
            into.Add(new StringStringEntryProto { Key = e.Name, Value = (e.Value as StringAttr)?.Value ?? "" });
    }

    /// <summary>The serialized messages of a module attribute; none (and nothing allocated) when the module does not have it.</summary>
    private static IReadOnlyList<ReadOnlyMemory<byte>> BytesList(Operation op, string name)
    {
        if (op.GetAttr(name) is not ArrayAttr arr) return [];
        var list = new List<ReadOnlyMemory<byte>>(arr.Elements.Count);
        foreach (var e in arr.Elements)
            if (e is DenseElementsAttr { IsSplat: false } d) list.Add(d.Data);
            else throw new MirException($"cannot write ONNX: attribute '{name}' should hold serialized bytes (dense<\"0x...\"> : tensor<Nxui8>)");
        return list;
    }

    private static bool IsNode(Operation op) =>
        op.Name.StartsWith("onnx.", StringComparison.Ordinal) && op.Name != "onnx.NoValue" &&
        !(op.Name == "onnx.Constant" && op.GetAttr("mo.node") is null);

    // ------------------------------------------------------------------ names

    private string ClaimTensorName(string preferred)
    {
        if (preferred.Length == 0) preferred = "t";
        var name = preferred;
        for (int k = 1; !_tensorNames.Add(name); k++) name = $"{preferred}_{k}";
        return name;
    }

    private string NodeName(Operation op)
    {
        // ONNX Runtime refuses two nodes of one name: a repeated location name (a pass split an op) gets a suffix.
        if (op.Location.FirstName is { Length: > 0 } n)
        {
            if (_assignedNodeNames.Add(n)) return n;
            for (int k = 1; ; k++)
                if (!NodeNames().Contains($"{n}_{k}") && _assignedNodeNames.Add($"{n}_{k}")) return $"{n}_{k}";
        }
        return NewNodeName(op.OpType.Contains('.') ? op.OpType[(op.OpType.LastIndexOf('.') + 1)..] : op.OpType);
    }

    private string NewNodeName(string opType)
    {
        string name;
        do name = $"{opType}_{_nextNodeName++}"; while (NodeNames().Contains(name) || !_assignedNodeNames.Add(name));
        return name;
    }

    private HashSet<string> NodeNames()
    {
        if (_nodeNames is { } names) return names;
        names = new HashSet<string>(_size.Nodes, StringComparer.Ordinal);
        var ops = _module.AllOperations();
        for (int i = 0; i < ops.Count; i++)
            if (ops[i].Location.FirstName is { Length: > 0 } n && IsNode(ops[i])) names.Add(n);
        return _nodeNames = names;
    }

    private string NameOf(Value v, Operation user)
    {
        if (_names.TryGetValue(v, out var n)) return n;
        throw new MirException($"cannot write ONNX: '{user.Name}'{Where(user)} reads a value that is not defined before it");
    }

    private static string Where(Operation op) => op.Location.FirstName is { } n ? $" at \"{n}\"" : "";

    private static IReadOnlyList<string>? StringList(Attr? attr) =>
        attr is ArrayAttr arr ? arr.Elements.Select(e => (e as StringAttr)?.Value ?? "").ToList() : null;

    // ------------------------------------------------------------------ graphs

    private GraphProto ExportMain(FuncOp func)
    {
        var g = new GraphProto();
        for (int i = 0; i < func.Arguments.Count; i++)
        {
            var attrs = func.ArgAttrs(i);
            var name = ClaimTensorName(func.ArgName(i) ?? $"input_{i}");
            _names[func.Arguments[i]] = name;
            AddValueInfo(g, _wire, output: false, name, func.Arguments[i].Type, attrs, $"graph input '{name}'");
        }
        var ret = func.Return ?? throw new MirException($"cannot write ONNX: @{func.Name} does not end with a return");
        var identities = ClaimOutputs(ret, i => func.ResultName(i) ?? $"output_{i}", func.Body, g, _wire, i => func.ResultAttrs(i));
        ExportOps(func.Body, g, main: true);
        AddIdentities(identities, g, _wire?.Nodes);
        if (_module.Op.GetAttr("onnx.initializers_as_inputs") is not null)
        {
            if (_wire is not null) _wire.AddInitializersAsInputs(InitializerInput);
            else foreach (var t in g.Initializer) g.Input.Add(InitializerInput(t));
        }
        return g;
    }

    private static ValueInfoProto InitializerInput(TensorProto t) =>
        new() { Name = t.Name, Type = OnnxTypeProtos.ToTypeProto(new TensorType(OnnxDataTypes.ElementOf(t.DataType)!, t.Dims.ToArray())) };

    /// <summary>
    /// Names the values a graph returns. A value produced in this graph takes the output's name; a graph input, an
    /// outer value or a value returned twice gets an Identity node instead (returned by this method), unless it already
    /// has the output's name (a subgraph that returns an outer value as is).
    /// </summary>
    private List<(Value Value, string Name)> ClaimOutputs(Operation ret, Func<int, string> outputName, Block block, GraphProto g, OnnxWireGraph? wire, Func<int, DictionaryAttr>? attrs)
    {
        var identities = new List<(Value, string)>();
        var claimed = new HashSet<Value>();
        for (int i = 0; i < ret.OperandCount; i++)
        {
            var v = ret.GetOperand(i);
            var wanted = outputName(i);
            if (v.Type == ElementType.None)
                throw new MirException($"cannot write ONNX: output '{wanted}' has no value (it is a missing optional value)");
            bool local = v is OpResult r && r.Owner.Parent == block;
            string name;
            if (local && claimed.Add(v))
            {
                name = ClaimTensorName(wanted);
                _names[v] = name;
            }
            else if (!local && block != _main!.Value.Body && _names.TryGetValue(v, out var existing) && existing == wanted && claimed.Add(v))
                name = wanted;
            else
            {
                name = ClaimTensorName(wanted);
                identities.Add((v, name));
            }
            AddValueInfo(g, wire, output: true, name, v.Type, attrs?.Invoke(i), $"output '{name}'");
        }
        return identities;
    }

    private void AddIdentities(List<(Value Value, string Name)> identities, GraphProto g, OnnxWireNodes? wire)
    {
        foreach (var (v, name) in identities)
        {
            if (wire is not null)
            {
                int first = wire.NameCount;
                wire.AddName(_names[v]);
                wire.AddName(name);
                wire.AddNode(NewNodeName("Identity"), "Identity", "", first, 1, 1, wire.AttributeCount, null, null);
                _usedDomains.Add("");
                continue;
            }
            var node = new NodeProto { OpType = "Identity", Name = NewNodeName("Identity"), Domain = "" };
            node.Input.Add(_names[v]);
            node.Output.Add(name);
            g.Node.Add(node);
            _usedDomains.Add("");
        }
    }

    /// <summary>A graph input or output: to <paramref name="wire"/> when given and the type is a tensor's, else to <paramref name="g"/> as a ValueInfoProto.</summary>
    private static void AddValueInfo(GraphProto g, OnnxWireGraph? wire, bool output, string name, MirType type, DictionaryAttr? attrs, string what)
    {
        if (wire is null)
        {
            (output ? g.Output : g.Input).Add(ValueInfo(name, type, attrs, what));
            return;
        }
        if (type is TensorType t && OnnxDataTypes.DataTypeOf(t.Element) is int dataType)
        {
            var dimParams = attrs?.Get("onnx.dim_params") is { } dp ? StringList(dp) : null;
            var doc = (attrs?.Get("onnx.doc_string") as StringAttr)?.Value;
            if (output) wire.AddOutput(name, dataType, t.Shape, dimParams, doc);
            else wire.AddInput(name, dataType, t.Shape, dimParams, doc);
            return;
        }
        var vi = ValueInfo(name, type, attrs, what);
        if (output) wire.AddOutput(vi);
        else wire.AddInput(vi);
    }

    private static ValueInfoProto ValueInfo(string name, MirType type, DictionaryAttr? attrs, string what)
    {
        var vi = new ValueInfoProto { Name = name };
        var dimParams = StringList(attrs?.Get("onnx.dim_params"));
        vi.Type = OnnxTypeProtos.ToTypeProto(type, dimParams)
            ?? throw new MirException($"cannot write ONNX: {what} has type {type}, which ONNX cannot express");
        if (attrs?.Get("onnx.doc_string") is StringAttr doc) vi.DocString = doc.Value;
        return vi;
    }

    private GraphProto ExportSubgraph(Region region, string graphName, Operation owner)
    {
        if (region.Blocks.Count != 1)
            throw new MirException($"cannot write ONNX: a region of '{owner.Name}'{Where(owner)} has {region.Blocks.Count} blocks; an ONNX subgraph is one");
        var block = region.Blocks[0];
        var g = new GraphProto { Name = graphName };
        for (int i = 0; i < block.Arguments.Count; i++)
        {
            var arg = block.Arguments[i];
            var name = ClaimTensorName(arg.Location.FirstName ?? $"{graphName}_input_{i}");
            _names[arg] = name;
            var vi = new ValueInfoProto { Name = name };
            if (OnnxTypeProtos.ToTypeProto(arg.Type) is { } tp) vi.Type = tp;
            g.Input.Add(vi);
        }
        var yield = block.Operations.Count > 0 && block.Operations[^1].Name == "mo.yield" ? block.Operations[^1]
            : throw new MirException($"cannot write ONNX: a region of '{owner.Name}'{Where(owner)} does not end with mo.yield");
        var names = StringList(yield.GetAttr("mo.names"));
        var identities = ClaimOutputs(yield, i => names is not null && i < names.Count && names[i].Length > 0 ? names[i] : $"{graphName}_output_{i}", block, g, null, null);
        ExportOps(block, g, main: false);
        AddIdentities(identities, g, null);
        return g;
    }

    /// <param name="main">Whether <paramref name="block"/> is the main graph's: its parts go to <see cref="_wire"/> when writing, its value_info to <see cref="_mainValueInfos"/> for ToModel.</param>
    private void ExportOps(Block block, GraphProto g, bool main)
    {
        var wire = main ? _wire : null;
        var ops = block.Operations;
        for (int k = 0; k < ops.Count; k++)
        {
            var op = ops[k];
            switch (op.Name)
            {
                case FuncOp.ReturnOpName or "mo.yield":
                    continue;
                case "onnx.NoValue":
                    foreach (var r in op.Results) _names[r] = "";
                    continue;
                case "onnx.Constant" when op.GetAttr("mo.node") is null:
                    ExportInitializer(op, g, wire);
                    continue;
            }
            if (!op.Name.StartsWith("onnx.", StringComparison.Ordinal))
                throw new MirException($"cannot write ONNX: '{op.Name}'{Where(op)} has no ONNX form (only onnx.* operations do; lower it first)");
            if (wire is not null)
            {
                ExportNode(op, wire.Nodes);
                var results = op.Results;
                for (int i = 0; i < results.Count; i++)
                    if (results[i] is var r && r.Type is TensorType { Shape: { } shape } t && _names[r] is { Length: > 0 } name
                        && OnnxDataTypes.DataTypeOf(t.Element) is int dataType && !wire.IsOutput(name))
                        wire.AddValueInfo(name, dataType, shape);
                continue;
            }
            g.Node.Add(ExportNode(op));
            foreach (var r in op.Results)
                if (r.Type is TensorType { IsRanked: true } && _names[r] is { Length: > 0 } name && TypeProtoOf(r.Type) is { } tp && !IsGraphOutput(g, name))
                {
                    if (main) (_mainValueInfos ??= new()).Add((name, r.Type));
                    else g.ValueInfo.Add(new ValueInfoProto { Name = name, Type = tp });
                }
        }
    }

    private TypeProto? TypeProtoOf(MirType type)
    {
        var protos = _typeProtos ??= new();
        if (!protos.TryGetValue(type, out var tp)) protos[type] = tp = OnnxTypeProtos.ToTypeProto(type);
        return tp;
    }

    private static bool IsGraphOutput(GraphProto g, string name)
    {
        foreach (var o in g.Output) if (o.Name == name) return true;
        return false;
    }

    /// <summary>
    /// Names each result from <c>mo.outputs</c>, else <paramref name="fallbackBase"/> + <paramref name="fallbackSuffix"/>
    /// (concatenated only when a result needs it: most results carry their name).
    /// </summary>
    private void NameResults(Operation op, string fallbackBase, string fallbackSuffix = "")
    {
        var outputs = op.GetAttr("mo.outputs") as ArrayAttr;
        for (int i = 0; i < op.Results.Count; i++)
        {
            var r = op.Results[i];
            // One look-up for the question and the answer (nothing else touches _names until the slot is filled).
            ref var name = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_names, r, out bool named);
            if (named) continue;
            if (r.Type == ElementType.None) { name = ""; continue; }
            var listed = outputs is not null && i < outputs.Elements.Count ? (outputs.Elements[i] as StringAttr)?.Value ?? "" : "";
            var preferred = listed.Length > 0 ? listed
                : op.Results.Count == 1 ? fallbackBase + fallbackSuffix : $"{fallbackBase}{fallbackSuffix}_{i}";
            name = ClaimTensorName(preferred);
        }
    }

    // ------------------------------------------------------------------ initializers

    /// <param name="wire">The main graph's parts when writing: the initializer goes there, not into <paramref name="g"/>.</param>
    private void ExportInitializer(Operation op, GraphProto g, OnnxWireGraph? wire)
    {
        var loc = op.Location.FirstName;
        NameResults(op, loc ?? "const");
        var name = _names[op.Result];
        if (op.GetAttr("onnx.sparse_initializer") is DenseElementsAttr sparseBytes)
        {
            var sparse = SparseTensorProto.Parser.ParseFrom(sparseBytes.Data.Span);
            sparse.Values ??= new TensorProto();
            sparse.Values.Name = name;
            g.SparseInitializer.Add(sparse);
            return;
        }
        if (op.GetAttr("onnx.string_initializer") is DenseElementsAttr stringBytes)
        {
            // A string tensor, held as the TensorProto it was read as (docs/formats/onnx.md).
            var strings = TensorProto.Parser.ParseFrom(stringBytes.Data.Span);
            strings.Name = name;
            if (wire is not null) wire.AddInitializer(strings);
            else g.Initializer.Add(strings);
            return;
        }
        var value = op.GetAttr("value") ?? throw new MirException($"cannot write ONNX: 'onnx.Constant'{Where(op)} has no value attribute");
        var (type, dataType, bytes) = TensorParts(value, name, isConstant: true);
        if (wire is not null)
        {
            wire.AddInitializer(name, dataType, type.Shape!, bytes);
            return;
        }
        var tensor = Tensor(type, dataType, bytes);
        tensor.Name = name;
        g.Initializer.Add(tensor);
    }

    /// <summary>A TensorProto of a dense or dense_resource attribute; the bytes are wrapped, not copied.</summary>
    private TensorProto Tensor(Attr attr, string subject)
    {
        var (type, dataType, bytes) = TensorParts(attr, subject, isConstant: false);
        return Tensor(type, dataType, bytes);
    }

    private static TensorProto Tensor(TensorType type, int dataType, ReadOnlyMemory<byte> bytes)
    {
        var t = new TensorProto { DataType = dataType, RawData = UnsafeByteOperations.UnsafeWrap(bytes) };
        var shape = type.Shape!;
        for (int i = 0; i < shape.Count; i++) t.Dims.Add(shape[i]);
        return t;
    }

    /// <summary>A dense or dense_resource attribute's static type, ONNX data type and bytes (the blob's, not a copy).</summary>
    /// <param name="subject">The constant's name (<paramref name="isConstant"/>) or the attribute's description, for errors.</param>
    private (TensorType Type, int DataType, ReadOnlyMemory<byte> Bytes) TensorParts(Attr attr, string subject, bool isConstant)
    {
        // The description is built only for an error: every weight passes here.
        string What() => isConstant ? $"constant '{subject}'" : subject;
        TensorType type;
        ReadOnlyMemory<byte> bytes;
        switch (attr)
        {
            case DenseElementsAttr dense:
                type = dense.Type;
                bytes = dense.IsSplat ? dense.ToFullBytes() : dense.Data;
                break;
            case DenseResourceAttr res:
                type = res.Type;
                if (res.Key == DenseResourceAttr.ElidedKey)
                    throw new MirException($"cannot write ONNX: {What()} was elided (the input is a dump made with --elide-constants-larger-than)");
                bytes = (_module.Resources.Get(res.Key) ?? throw new MirException($"cannot write ONNX: {What()} points at resource '{res.Key}', which the module does not have")).Data;
                break;
            default:
                throw new MirException($"cannot write ONNX: {What()} is not a dense or dense_resource constant");
        }
        if (!type.HasStaticShape) throw new MirException($"cannot write ONNX: {What()} has type {type}, which has no static shape");
        var dataType = OnnxDataTypes.DataTypeOf(type.Element) ?? throw new MirException($"cannot write ONNX: {What()} has element type {type.Element}, which ONNX lacks");
        return (type, dataType, bytes);
    }

    // ------------------------------------------------------------------ nodes

    private (string OpType, string Domain) OpTypeOf(Operation op)
    {
        if (!_opTypes.TryGetValue(op.Name, out var kind))
        {
            var full = op.Name["onnx.".Length..];
            int dot = full.LastIndexOf('.');
            _opTypes[op.Name] = kind = (dot < 0 ? full : full[(dot + 1)..], dot < 0 ? "" : full[..dot]);
        }
        return kind;
    }

    /// <summary>
    /// The node as <see cref="ExportNode(Operation)"/> builds it, kept in <paramref name="wire"/> for the writer: its names
    /// and the IR's attribute values, or the NodeProto itself for a node with regions, raw attributes or metadata.
    /// </summary>
    private void ExportNode(Operation op, OnnxWireNodes wire)
    {
        if (op.Regions.Count > 0 || op.GetAttr("onnx.raw_attributes") is not null || op.GetAttr("onnx.metadata_props") is not null)
        {
            wire.AddNode(ExportNode(op));
            return;
        }
        var kind = OpTypeOf(op);
        var name = NodeName(op);
        _usedDomains.Add(kind.Domain);
        int firstName = wire.NameCount;
        for (int i = 0; i < op.OperandCount; i++) wire.AddName(NameOf(op.GetOperand(i), op));
        NameResults(op, name, "_output");
        var results = op.Results;
        for (int i = 0; i < results.Count; i++) wire.AddName(_names[results[i]]);
        int firstAttribute = wire.AttributeCount;
        string? doc = null, overload = null;
        // The op's attributes are sorted by name (ordinal), as the node's must be: no sort here.
        foreach (var a in op.AttributeSpan)
        {
            switch (a.Name)
            {
                case "onnx.doc_string" when a.Value is StringAttr d: doc = d.Value; continue;
                case "onnx.overload" when a.Value is StringAttr ov: overload = ov.Value; continue;
            }
            if (a.Name.StartsWith("mo.", StringComparison.Ordinal) || a.Name.StartsWith("onnx.", StringComparison.Ordinal)) continue;
            if (!wire.TryAddAttribute(a.Name, a.Value)) wire.AddAttribute(Attribute(a.Name, a.Value, op, name));
        }
        wire.AddNode(name, kind.OpType, kind.Domain, firstName, op.OperandCount, op.Results.Count, firstAttribute, doc, overload);
    }

    private NodeProto ExportNode(Operation op)
    {
        var kind = OpTypeOf(op);
        var node = new NodeProto { OpType = kind.OpType, Domain = kind.Domain, Name = NodeName(op) };
        _usedDomains.Add(node.Domain);
        for (int i = 0; i < op.OperandCount; i++) node.Input.Add(NameOf(op.GetOperand(i), op));

        // The outputs are named before the subgraphs, so that their names win over names inside them.
        NameResults(op, node.Name, "_output");

        // A node with regions exports its subgraphs (and their nodes) while its own list is open, so it takes a fresh one.
        var attributes = op.Regions.Count > 0 ? new List<AttributeProto>() : _nodeAttributes ??= new();
        attributes.Clear();
        foreach (var a in op.Attributes)
        {
            switch (a.Name)
            {
                case "onnx.raw_attributes" when a.Value is ArrayAttr raws:
                    foreach (var raw in raws.Elements)
                        if (raw is DenseElementsAttr { IsSplat: false } bytes) attributes.Add(AttributeProto.Parser.ParseFrom(bytes.Data.Span));
                    continue;
                case "onnx.doc_string" when a.Value is StringAttr doc: node.DocString = doc.Value; continue;
                case "onnx.overload" when a.Value is StringAttr ov: node.Overload = ov.Value; continue;
                case "onnx.metadata_props": AddProps(node.MetadataProps, a.Value); continue;
            }
            if (a.Name.StartsWith("mo.", StringComparison.Ordinal) || a.Name.StartsWith("onnx.", StringComparison.Ordinal)) continue;
            attributes.Add(Attribute(a.Name, a.Value, op, node.Name));
        }
        if (op.Regions.Count > 0)
        {
            var regionNames = StringList(op.GetAttr("mo.regions"));
            var graphNames = StringList(op.GetAttr("onnx.graph_names"));
            if (regionNames is null || regionNames.Count != op.Regions.Count)
                throw new MirException($"cannot write ONNX: '{op.Name}'{Where(op)} has {op.Regions.Count} regions but mo.regions does not name each");
            for (int i = 0; i < op.Regions.Count; i++)
            {
                var graphName = graphNames is not null && i < graphNames.Count && graphNames[i].Length > 0 ? graphNames[i] : $"{node.Name}_{regionNames[i]}";
                attributes.Add(new AttributeProto { Name = regionNames[i], Type = AttrType.Graph, G = ExportSubgraph(op.Regions[i], graphName, op) });
            }
        }
        if (attributes.Count > 1) attributes.Sort(static (x, y) => string.CompareOrdinal(x.Name, y.Name));
        foreach (var a in attributes) node.Attribute.Add(a);
        attributes.Clear();

        foreach (var r in op.Results) node.Output.Add(_names[r]);
        return node;
    }

    private AttributeProto Attribute(string name, Attr value, Operation op, string nodeName)
    {
        var a = new AttributeProto { Name = name };
        // Built only for an error or a tensor's message (a local function passed as a delegate would cost a closure per attribute).
        string What() => AttributeWhat(name, op, nodeName);
        switch (value)
        {
            case IntegerAttr i: a.Type = AttrType.Int; a.I = i.Value; break;
            case BoolAttr b: a.Type = AttrType.Int; a.I = b.Value ? 1 : 0; break;
            case FloatAttr f: a.Type = AttrType.Float; a.F = (float)f.Value; break;
            case StringAttr s: a.Type = AttrType.String; a.S = ByteString.CopyFrom(StringBytes.Encode(s.Value)); break;
            case DenseArrayAttr da when da.Type.IsFloat:
                a.Type = AttrType.Floats;
                foreach (var v in da.Floats) a.Floats.Add((float)v);
                break;
            case DenseArrayAttr da:
                a.Type = AttrType.Ints;
                foreach (var v in da.Ints) a.Ints.Add(v);
                break;
            case ArrayAttr arr:
                FillList(a, arr, name, op, nodeName);
                break;
            case DenseElementsAttr or DenseResourceAttr:
                a.Type = AttrType.Tensor;
                a.T = Tensor(value, What());
                break;
            case TypeAttr t:
                a.Type = AttrType.TypeProto;
                a.Tp = OnnxTypeProtos.ToTypeProto(t.Type) ?? throw new MirException($"cannot write ONNX: {What()} is type {t.Type}, which ONNX cannot express");
                break;
            default:
                throw new MirException($"cannot write ONNX: {What()} ({value.GetType().Name.Replace("Attr", "", StringComparison.Ordinal)}) has no ONNX form");
        }
        return a;
    }

    private static string AttributeWhat(string name, Operation op, string nodeName) => $"attribute '{name}' of '{op.Name}' at \"{nodeName}\"";

    private void FillList(AttributeProto a, ArrayAttr arr, string name, Operation op, string nodeName)
    {
        string what() => AttributeWhat(name, op, nodeName);
        var e = arr.Elements;
        bool allInts = true, allNumbers = true, allStrings = true, allTensors = true;
        foreach (var x in e)
        {
            allInts &= x is IntegerAttr or BoolAttr;
            allNumbers &= x is IntegerAttr or BoolAttr or FloatAttr;
            allStrings &= x is StringAttr;
            allTensors &= x is DenseElementsAttr or DenseResourceAttr;
        }
        if (allInts)
        {
            a.Type = AttrType.Ints;
            foreach (var x in e) a.Ints.Add(OnnxWireNodes.IntOf(x));
        }
        else if (allNumbers)
        {
            a.Type = AttrType.Floats;
            foreach (var x in e) a.Floats.Add(OnnxWireNodes.FloatOf(x));
        }
        else if (allStrings)
        {
            a.Type = AttrType.Strings;
            foreach (var x in e) a.Strings.Add(ByteString.CopyFrom(StringBytes.Encode(((StringAttr)x).Value)));
        }
        else if (allTensors)
        {
            a.Type = AttrType.Tensors;
            foreach (var x in e) a.Tensors.Add(Tensor(x, what()));
        }
        else throw new MirException($"cannot write ONNX: {what()} mixes element kinds that no ONNX attribute type holds");
    }
}
