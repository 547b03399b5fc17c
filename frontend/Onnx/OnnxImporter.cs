using System.Text;
using Google.Protobuf;
using Mopt.Dialects.Onnx;
using Mopt.Ir;
using Mopt.Onnx.Proto;
using AttrType = Mopt.Onnx.Proto.AttributeProto.Types.AttributeType;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Frontend.Onnx;

public sealed record OnnxImportOptions
{
    /// <summary>The lowest opset of the default domain that is accepted (1: every opset ONNX Runtime runs; the op definitions say what old ones mean).</summary>
    public int MinOpset { get; init; } = 1;
    /// <summary>The highest opset of the default domain that is accepted.</summary>
    public int MaxOpset { get; init; } = 26; // the newest ONNX Runtime 1.31 runs (OnnxLegacy.NewestKnownOpset says what passes rewrite)

    public static readonly OnnxImportOptions Default = new();
}

/// <summary>Reads <c>.onnx</c> files.</summary>
public sealed class OnnxModelReader(OnnxImportOptions? options = null) : IModelReader
{
    public string Format => "ONNX";
    public bool CanRead(string path) => FileNames.HasExtension(path, ".onnx");
    public MirModule Read(string path) => OnnxImporter.ImportFile(path, options);
}

/// <summary>
/// ONNX ModelProto → module. The mapping is described in docs/formats/onnx.md: nodes become <c>onnx.&lt;OpType&gt;</c>
/// operations named by <c>loc("node name")</c> with their output names in <c>mo.outputs</c>; initializers become
/// <c>onnx.Constant</c>s whose bytes go to resource blobs without a copy; subgraphs become regions.
/// </summary>
public sealed class OnnxImporter
{
    /// <summary>Above this many bytes a TENSOR attribute's data goes to a resource blob instead of a dense literal.</summary>
    public const int InlineTensorLimit = 1024;

    private readonly ModelProto _model;
    private readonly string _name;
    private readonly OnnxImportOptions _options;
    private readonly OnnxTensorReader _tensors;
    private readonly MirModule _module;
    private readonly Dictionary<NodeProto, string> _nodeNames = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<GraphProto, HashSet<string>> _freeNames = new(ReferenceEqualityComparer.Instance);

    private OnnxImporter(ModelProto model, string? modelDir, string name, OnnxImportOptions options,
        IReadOnlyDictionary<TensorProto, ReadOnlyMemory<byte>>? mapped)
    {
        _model = model;
        _name = name;
        _options = options;
        _tensors = new OnnxTensorReader(modelDir, name, mapped);
        _module = MirModule.Create(model.Graph.Name.Length > 0 ? model.Graph.Name : null);
    }

    /// <summary>Reads and imports an ONNX file; every problem is a one-line <see cref="MirException"/> naming the file.</summary>
    /// <remarks>
    /// The file is memory-mapped: the main graph's initializers' raw_data and external data stay the files' pages
    /// (<see cref="MappedFile"/>) until a pass changes them; protobuf parses only the rest (<see cref="OnnxFileSkeleton"/>).
    /// </remarks>
    public static MirModule ImportFile(string path, OnnxImportOptions? options = null)
    {
        ModelProto model;
        Dictionary<TensorProto, ReadOnlyMemory<byte>>? mapped = null;
        try
        {
            var file = MapModel(path);
            if (file is null)
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
                // Not mappable: read in windows as the parser goes, each tensor copied once, the file never whole.
                model = Parse(FileWindowSequence.Open(handle, RandomAccess.GetLength(handle)), path);
            }
            else
            {
                var whole = file.Slice(0, (int)file.Length);
                if (OnnxFileSkeleton.Build(whole.Span) is { } skeleton)
                {
                    model = Parse(skeleton.Skeleton, path);
                    mapped = new Dictionary<TensorProto, ReadOnlyMemory<byte>>(ReferenceEqualityComparer.Instance);
                    foreach (var raw in skeleton.Raw)
                        mapped[model.Graph.Initializer[raw.Initializer]] = file.Slice(raw.Offset, raw.Length);
                }
                else model = Parse(new System.Buffers.ReadOnlySequence<byte>(whole), path);
                // The pages the parser read (nodes, small tensors) are copied out: they leave the process.
                MappedMemory.Release(whole);
            }
        }
        catch (FileNotFoundException) { throw new MirException($"cannot read '{path}': file not found"); }
        catch (DirectoryNotFoundException) { throw new MirException($"cannot read '{path}': no such folder"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MirException($"cannot read '{path}': {e.Message}");
        }
        return Import(model, Path.GetDirectoryName(Path.GetFullPath(path)), path, options, mapped);
    }

    /// <summary>The model file mapped, or null when it is empty or larger than one protobuf message can be.</summary>
    private static MappedFile? MapModel(string path)
    {
        MappedFile? file;
        try { file = MappedFile.Open(path); }
        catch (Exception e) when (e is IOException and not FileNotFoundException and not DirectoryNotFoundException)
        {
            return null; // a pipe or a device: read as a stream
        }
        return file is not null && file.Length <= int.MaxValue ? file : null;
    }

    /// <summary>Parses the bytes of an ONNX file, with a clear error for what is not one.</summary>
    public static ModelProto Parse(byte[] bytes, string name) => Parse(new System.Buffers.ReadOnlySequence<byte>(bytes), name);

    /// <summary>Parses an ONNX file's bytes, with a clear error for what is not one.</summary>
    public static ModelProto Parse(System.Buffers.ReadOnlySequence<byte> bytes, string name)
    {
        if (bytes.Length == 0) throw new MirException($"'{name}': not an ONNX model: the file is empty");
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            var why = ProtobufErrors.Why(e, "ModelProto");
            throw new MirException($"'{name}': not an ONNX model: {why}");
        }
        if (model.Graph is null || !model.HasIrVersion)
            throw new MirException($"'{name}': not an ONNX model: {(model.HasIrVersion ? "it has no graph" : "it has no ir_version")} (a truncated file or another protobuf)");
        return model;
    }

    /// <summary>Imports a parsed model. <paramref name="modelDir"/> is where external data files are looked for.</summary>
    public static MirModule Import(ModelProto model, string? modelDir, string name, OnnxImportOptions? options = null) =>
        Import(model, modelDir, name, options, null);

    /// <param name="mapped">The bytes of initializers whose raw_data the parsed model lacks (left in the mapped file).</param>
    private static MirModule Import(ModelProto model, string? modelDir, string name, OnnxImportOptions? options,
        IReadOnlyDictionary<TensorProto, ReadOnlyMemory<byte>>? mapped)
    {
        if (model.Graph is null) throw new MirException($"'{name}': the model has no graph");
        var importer = new OnnxImporter(model, modelDir, name, options ?? OnnxImportOptions.Default, mapped);
        try { return importer.Run(); }
        finally { importer._tensors.Dispose(); }
    }

    // ------------------------------------------------------------------ model

    private MirModule Run()
    {
        var op = _module.Op;
        op.SetAttr("mo.source", new StringAttr("onnx"));

        long? defaultOpset = null;
        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var os in _model.OpsetImport)
        {
            var domain = IsDefaultDomain(os.Domain) ? "" : os.Domain;
            CheckDomainVersion(domain, os.Version);
            if (domain.Length == 0) defaultOpset = os.Version;
            opsets[domain.Length == 0 ? "ai.onnx" : domain] = os.Version;
        }
        if (defaultOpset is long v)
        {
            if (v < _options.MinOpset || v > _options.MaxOpset)
                throw new MirException($"'{_name}': opset {v} of the default ONNX domain is not supported (mopt reads opsets {_options.MinOpset} to {_options.MaxOpset})");
            op.SetAttr("onnx.opset", IntegerAttr.I64(v));
        }
        else if (FirstDefaultDomainNode(_model.Graph) is { } node)
            throw new MirException($"'{_name}': {(node.Name.Length > 0 ? $"node '{node.Name}' ({node.OpType})" : $"a {node.OpType} node")} is in the default ONNX domain but the model imports no opset for it");
        if (opsets.Count > 0)
            op.SetAttr("onnx.opset_import", DictionaryAttr.From(opsets.Select(kv => new NamedAttr(kv.Key, IntegerAttr.I64(kv.Value)))));

        if (_model.HasIrVersion) op.SetAttr("onnx.ir_version", IntegerAttr.I64(_model.IrVersion));
        SetString(op, "onnx.producer_name", _model.ProducerName);
        SetString(op, "onnx.producer_version", _model.ProducerVersion);
        SetString(op, "onnx.domain", _model.Domain);
        if (_model.HasModelVersion) op.SetAttr("onnx.model_version", IntegerAttr.I64(_model.ModelVersion));
        SetString(op, "onnx.doc_string", _model.DocString);
        SetString(op, "onnx.graph_doc_string", _model.Graph.DocString);
        SetProps(op, "onnx.metadata_props", _model.MetadataProps);
        SetProps(op, "onnx.graph_metadata_props", _model.Graph.MetadataProps);
        // What mopt does not model is kept as serialized bytes and written back unchanged.
        SetBytesList(op, "onnx.functions", _model.Functions);
        SetBytesList(op, "onnx.training_info", _model.TrainingInfo);
        SetBytesList(op, "onnx.quantization_annotation", _model.Graph.QuantizationAnnotation);
        if (_model.Configuration.Count > 0)
            op.SetAttr("onnx.configuration", ArrayAttr.Of(_model.Configuration.Select(b => (Attr)Bytes(b.Memory))));

        AssignNodeNames();
        ImportMain(_model.Graph);
        Verifier.Verify(_module, $"'{_name}'");
        return _module;
    }

    private static bool IsDefaultDomain(string domain) => domain.Length == 0 || domain == "ai.onnx";

    /// <summary>The newest opset of the ONNX domains besides the default one (ONNX 1.17+, as ONNX Runtime knows them).</summary>
    private static readonly Dictionary<string, long> NewestDomainVersions = new(StringComparer.Ordinal)
    {
        ["ai.onnx.ml"] = 5,
        ["ai.onnx.training"] = 1,
        ["ai.onnx.preview.training"] = 1,
    };

    /// <summary>An opset import of a version that does not exist is refused (ONNX Runtime refuses it too).</summary>
    private void CheckDomainVersion(string domain, long version)
    {
        string name = domain.Length == 0 ? "the default ONNX domain" : $"domain '{domain}'";
        if (version < 1)
            throw new MirException($"'{_name}': the opset import of {name} has version {version}; versions start at 1");
        if (NewestDomainVersions.TryGetValue(domain, out long newest) && version > newest)
            throw new MirException($"'{_name}': the opset import of {name} has version {version}, which does not exist (the newest is {newest})");
    }

    private static NodeProto? FirstDefaultDomainNode(GraphProto g)
    {
        foreach (var n in g.Node)
        {
            if (IsDefaultDomain(n.Domain)) return n;
            foreach (var a in n.Attribute)
                if (a.G is { } sub && FirstDefaultDomainNode(sub) is { } inner) return inner;
        }
        return null;
    }

    private static void SetString(Operation op, string name, string value)
    {
        if (value.Length > 0) op.SetAttr(name, new StringAttr(value));
    }

    private static void SetProps(Operation op, string name, IEnumerable<StringStringEntryProto> props)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in props)
            if (p.Key.Length > 0) map[p.Key] = p.Value;
        if (map.Count > 0) op.SetAttr(name, DictionaryAttr.From(map.Select(kv => new NamedAttr(kv.Key, new StringAttr(kv.Value)))));
    }

    private static void SetBytesList<T>(Operation op, string name, IReadOnlyCollection<T> messages) where T : IMessage
    {
        if (messages.Count > 0) op.SetAttr(name, ArrayAttr.Of(messages.Select(m => (Attr)Bytes(m.ToByteArray()))));
    }

    /// <summary>Serialized bytes as an attribute: <c>dense&lt;"0x..."&gt; : tensor&lt;Nxui8&gt;</c>.</summary>
    public static DenseElementsAttr Bytes(ReadOnlyMemory<byte> bytes) =>
        new(new TensorType(ElementType.UI8, [bytes.Length]), bytes, false);

    // ------------------------------------------------------------------ node names

    /// <summary>Unnamed nodes get <c>&lt;OpType&gt;_&lt;index&gt;</c> (index in their graph), the main graph first, unique in the model.</summary>
    private void AssignNodeNames()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var graphs = new List<GraphProto>();
        CollectGraphs(_model.Graph, graphs);
        foreach (var g in graphs)
            foreach (var n in g.Node)
                if (n.Name.Length > 0) used.Add(n.Name);
        foreach (var g in graphs)
            for (int i = 0; i < g.Node.Count; i++)
            {
                var n = g.Node[i];
                var name = n.Name;
                if (name.Length == 0)
                {
                    var baseName = $"{n.OpType}_{i}";
                    name = baseName;
                    for (int k = 1; !used.Add(name); k++) name = $"{baseName}_{k}";
                }
                _nodeNames[n] = name;
            }
    }

    /// <summary>The graph and its subgraphs, breadth first.</summary>
    private static void CollectGraphs(GraphProto root, List<GraphProto> into)
    {
        into.Add(root);
        for (int i = into.Count - 1; i < into.Count; i++)
            foreach (var n in into[i].Node)
                foreach (var a in n.Attribute)
                    if (a.G is { } sub && IsGraphAttr(a)) into.Add(sub);
    }

    private static bool IsGraphAttr(AttributeProto a) =>
        a.RefAttrName.Length == 0 && (a.Type == AttrType.Graph || (a.Type == AttrType.Undefined && a.G is not null));

    // ------------------------------------------------------------------ graphs

    private sealed class Scope(Scope? parent, Block block, string what)
    {
        public Scope? Parent { get; } = parent;
        public Block Block { get; } = block;
        /// <summary>"graph 'main'" or "subgraph 'then_branch' of node 'If_3'", for messages.</summary>
        public string What { get; } = what;
        public Dictionary<string, Value> Values { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, TypeProto> Declared { get; } = new(StringComparer.Ordinal);
        public Value? NoValue { get; set; }

        public Value? Lookup(string name)
        {
            for (var s = this; s is not null; s = s.Parent)
                if (s.Values.TryGetValue(name, out var v)) return v;
            return null;
        }
    }

    private void ImportMain(GraphProto g)
    {
        var initializerNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in g.Initializer) initializerNames.Add(t.Name);
        foreach (var s in g.SparseInitializer) if (s.Values is { } sv) initializerNames.Add(sv.Name);

        var argTypes = new List<MirType>();
        var argInfos = new List<ValueInfoProto>();
        var argDims = new List<string[]?>();
        bool initializersAsInputs = false;
        foreach (var input in g.Input)
        {
            if (initializerNames.Contains(input.Name)) { initializersAsInputs = true; continue; }
            var type = OnnxTypes.FromTypeProto(input.Type, out var dims)
                ?? throw new MirException($"'{_name}': graph input '{input.Name}' has no type");
            argTypes.Add(type);
            argInfos.Add(input);
            argDims.Add(dims);
        }
        if (initializersAsInputs) _module.Op.SetAttr("onnx.initializers_as_inputs", UnitAttr.Instance);

        var func = _module.AddFunction("main", argTypes, []);
        var scope = new Scope(null, func.Body, "main graph");
        for (int i = 0; i < argInfos.Count; i++)
        {
            var vi = argInfos[i];
            func.SetArgAttrs(i, ValueInfoAttrs(vi, argDims[i]));
            if (!scope.Values.TryAdd(vi.Name, func.Arguments[i]))
                throw new MirException($"'{_name}': graph input '{vi.Name}' is listed twice");
        }

        ImportBody(g, scope);

        var results = new List<Value>();
        foreach (var output in g.Output)
            results.Add(scope.Lookup(output.Name)
                ?? throw new MirException($"'{_name}': graph output '{output.Name}' is not produced by any node, graph input or initializer"));
        OpBuilder.AtEnd(func.Body).Return(results);
        func.UpdateType();
        for (int i = 0; i < g.Output.Count; i++)
        {
            var vi = g.Output[i];
            OnnxTypes.FromTypeProto(vi.Type, out var dims);
            if (dims is not null && results[i].Type is TensorType tt && tt.Shape?.Count != dims.Length) dims = null;
            func.SetResultAttrs(i, ValueInfoAttrs(vi, dims));
        }
    }

    private static DictionaryAttr ValueInfoAttrs(ValueInfoProto vi, string[]? dimParams)
    {
        var attrs = new List<NamedAttr> { new("mo.name", new StringAttr(vi.Name)) };
        if (dimParams is not null) attrs.Add(new NamedAttr("onnx.dim_params", ArrayAttr.OfStrings(dimParams)));
        if (vi.DocString.Length > 0) attrs.Add(new NamedAttr("onnx.doc_string", new StringAttr(vi.DocString)));
        return DictionaryAttr.From(attrs);
    }

    /// <summary>Declared types, initializers and nodes of a graph, into <paramref name="scope"/>'s block.</summary>
    private void ImportBody(GraphProto g, Scope scope)
    {
        foreach (var vi in g.ValueInfo) if (vi.Type is not null) scope.Declared[vi.Name] = vi.Type;
        foreach (var vi in g.Input) if (vi.Type is not null) scope.Declared[vi.Name] = vi.Type;
        foreach (var vi in g.Output) if (vi.Type is not null) scope.Declared[vi.Name] = vi.Type;

        var builder = OpBuilder.AtEnd(scope.Block);
        foreach (var t in g.Initializer)
        {
            var what = $"initializer '{t.Name}'";
            if (t.DataType == OnnxDataTypes.String)
            {
                scope.Values[t.Name] = StringInitializer(builder, t);
                continue;
            }
            var data = _tensors.Read(t, what);
            uint align = (uint)Math.Max(4, data.Type.Element.ByteSize);
            var key = _module.Resources.Add(t.Name, new ResourceBlob(align, data.Bytes));
            var value = builder.Constant(new DenseResourceAttr(data.Type, key), data.Type, Location.Named(t.Name));
            scope.Values[t.Name] = value;
        }
        foreach (var s in g.SparseInitializer)
        {
            var name = s.Values?.Name ?? "";
            var type = s.Values is { } values ? OnnxTypes.TensorOf(values.DataType, s.Dims.ToArray()) : TensorType.Unranked(ElementType.F32);
            var op = builder.Create("onnx.Constant", [], [type],
                [new NamedAttr("onnx.sparse_initializer", Bytes(s.ToByteArray()))], Location.Named(name));
            scope.Values[name] = op.Result;
        }

        foreach (var node in SortNodes(g, scope))
            ImportNode(node, scope);
    }

    /// <summary>
    /// A string initializer has no IR element type: an <c>onnx.Constant</c> of type <c>!onnx.Tensor&lt;string&gt;</c>
    /// holding its TensorProto (as a sparse initializer is held), written back as it was read.
    /// </summary>
    private Value StringInitializer(OpBuilder builder, TensorProto t)
    {
        if (t.HasDataLocation && t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new MirException($"'{_name}': initializer '{t.Name}' is a string tensor in external data, which ONNX does not allow");
        long count = 1;
        foreach (var d in t.Dims) count = d < 0 ? throw new MirException($"'{_name}': initializer '{t.Name}' has a negative dimension ({d})") : count * d;
        if (t.StringData.Count != count)
            throw new MirException($"'{_name}': initializer '{t.Name}' has {t.StringData.Count} strings but its shape needs {count}");
        var type = OnnxTypes.TensorOf(OnnxDataTypes.String, t.Dims.ToArray());
        return builder.Create("onnx.Constant", [], [type], [new NamedAttr(StringInitializerAttr, Bytes(t.ToByteArray()))], Location.Named(t.Name)).Result;
    }

    /// <summary>The attribute of an <c>onnx.Constant</c> holding a string initializer's TensorProto bytes.</summary>
    public const string StringInitializerAttr = "onnx.string_initializer";

    // ------------------------------------------------------------------ nodes

    private string NodeWhat(NodeProto node) => $"node '{_nodeNames[node]}' ({node.OpType})";

    private void ImportNode(NodeProto node, Scope scope)
    {
        var name = _nodeNames[node];
        var opName = IsDefaultDomain(node.Domain) ? "onnx." + node.OpType : $"onnx.{node.Domain}.{node.OpType}";
        if (node.OpType.Length == 0) throw new MirException($"'{_name}': node '{name}' has no op_type");

        var operands = new Value[node.Input.Count];
        for (int i = 0; i < operands.Length; i++)
        {
            var input = node.Input[i];
            operands[i] = input.Length == 0
                ? NoValue(scope)
                : scope.Lookup(input) ?? throw new MirException(
                    $"'{_name}': {NodeWhat(node)} reads tensor '{input}', which no node, graph input or initializer produces");
        }

        var attrs = new List<NamedAttr>();
        var raw = new List<Attr>();
        var graphs = new List<AttributeProto>();
        foreach (var a in node.Attribute)
        {
            if (IsGraphAttr(a)) { graphs.Add(a); continue; }
            if (ConvertAttribute(a, node) is { } attr) attrs.Add(new NamedAttr(a.Name, attr));
            else raw.Add(Bytes(a.ToByteArray()));
        }
        if (raw.Count > 0) attrs.Add(new NamedAttr("onnx.raw_attributes", ArrayAttr.Of(raw)));
        attrs.Add(new NamedAttr("mo.outputs", ArrayAttr.OfStrings(node.Output)));
        if (node.DocString.Length > 0) attrs.Add(new NamedAttr("onnx.doc_string", new StringAttr(node.DocString)));
        if (node.Overload.Length > 0) attrs.Add(new NamedAttr("onnx.overload", new StringAttr(node.Overload)));
        if (node.MetadataProps.Count > 0)
            attrs.Add(new NamedAttr("onnx.metadata_props", DictionaryAttr.From(node.MetadataProps.GroupBy(p => p.Key)
                .Select(p => new NamedAttr(p.Key, new StringAttr(p.Last().Value))))));
        if (graphs.Count > 0)
        {
            graphs.Sort((x, y) => string.CompareOrdinal(x.Name, y.Name));
            attrs.Add(new NamedAttr("mo.regions", ArrayAttr.OfStrings(graphs.Select(a => a.Name))));
            if (graphs.Any(a => a.G.Name.Length > 0))
                attrs.Add(new NamedAttr("onnx.graph_names", ArrayAttr.OfStrings(graphs.Select(a => a.G.Name))));
        }
        if (opName == "onnx.Constant") attrs.Add(new NamedAttr("mo.node", UnitAttr.Instance));

        var declared = new MirType?[node.Output.Count];
        var placeholder = new MirType[node.Output.Count];
        for (int i = 0; i < declared.Length; i++)
        {
            var output = node.Output[i];
            if (output.Length == 0) declared[i] = ElementType.None;
            else if (scope.Declared.TryGetValue(output, out var tp)) declared[i] = OnnxTypes.FromTypeProto(tp, out _);
            placeholder[i] = declared[i] ?? ElementType.None;
        }

        var op = new Operation(opName, operands, placeholder, attrs, Location.Named(name));
        scope.Block.Append(op);

        foreach (var g in graphs)
            ImportSubgraph(g.G, op.AddRegion(), scope, node, g.Name, op);

        for (int i = 0; i < declared.Length; i++)
        {
            if (declared[i] is null) op.Results[i].Type = InferResultType(node, op, i);
            var output = node.Output[i];
            if (output.Length == 0) continue;
            if (!scope.Values.TryAdd(output, op.Results[i]))
                throw new MirException($"'{_name}': {NodeWhat(node)} writes tensor '{output}', which is already defined in the {scope.What}");
        }
    }

    private Value NoValue(Scope scope)
    {
        if (scope.NoValue is { } v) return v;
        var op = new Operation("onnx.NoValue", [], [ElementType.None]);
        scope.Block.Insert(0, op);
        return scope.NoValue = op.Result;
    }

    private void ImportSubgraph(GraphProto g, Region region, Scope parent, NodeProto node, string attrName, Operation owner)
    {
        var block = region.AddBlock();
        var scope = new Scope(parent, block, $"subgraph '{attrName}' of {NodeWhat(node)}");
        for (int i = 0; i < g.Input.Count; i++)
        {
            var vi = g.Input[i];
            var type = OnnxTypes.FromTypeProto(vi.Type, out _) ?? SubgraphInputHint(node, owner, i);
            var arg = block.AddArgument(type, Location.Named(vi.Name));
            scope.Values[vi.Name] = arg;
        }
        ImportBody(g, scope);
        var outs = new List<Value>();
        foreach (var output in g.Output)
            outs.Add(scope.Lookup(output.Name) ?? throw new MirException(
                $"'{_name}': output '{output.Name}' of the {scope.What} is not produced by any node, input or initializer"));
        OpBuilder.AtEnd(block).Create("mo.yield", outs, [], [new NamedAttr("mo.names", ArrayAttr.OfStrings(g.Output.Select(o => o.Name)))]);
    }

    /// <summary>A subgraph input without a declared type: what the op passes it, as far as the op's definition says.</summary>
    private static MirType SubgraphInputHint(NodeProto node, Operation owner, int index)
    {
        if (IsDefaultDomain(node.Domain))
        {
            switch (node.OpType)
            {
                case "Loop" when index == 0: return new TensorType(ElementType.I64, []);
                case "Loop" when index == 1: return new TensorType(ElementType.I1, []);
                case "Loop" when index < owner.OperandCount: return owner.GetOperand(index).Type;
                case "Scan" when index < owner.OperandCount: return Generalize(owner.GetOperand(index).Type);
            }
        }
        return TensorType.Unranked(ElementType.F32);
    }

    // ------------------------------------------------------------------ attributes

    /// <summary>The IR form of an attribute, or null when it is kept as serialized bytes.</summary>
    private Attr? ConvertAttribute(AttributeProto a, NodeProto node)
    {
        if (a.RefAttrName.Length > 0) return null;
        var type = a.Type;
        if (type == AttrType.Undefined)
        {
            // IR version 1 had no type field: tell by which field is present.
            type = a.HasF ? AttrType.Float : a.HasI ? AttrType.Int : a.HasS ? AttrType.String : a.T is not null ? AttrType.Tensor
                : a.Floats.Count > 0 ? AttrType.Floats : a.Ints.Count > 0 ? AttrType.Ints : a.Strings.Count > 0 ? AttrType.Strings
                : AttrType.Undefined;
        }
        switch (type)
        {
            case AttrType.Int: return IntegerAttr.I64(a.I);
            case AttrType.Float: return FloatAttr.F32(a.F);
            case AttrType.String: return new StringAttr(StringBytes.Decode(a.S.Span));
            case AttrType.Ints:
                if (a.Ints.Count == 0) return DenseArrayAttr.OfInts(ElementType.I64, []);
                var ints = new Attr[a.Ints.Count];
                for (int i = 0; i < ints.Length; i++) ints[i] = IntegerAttr.I64(a.Ints[i]);
                return new ArrayAttr(new ValueList<Attr>(ints));
            case AttrType.Floats:
                if (a.Floats.Count == 0) return DenseArrayAttr.OfFloats(ElementType.F32, []);
                var floats = new Attr[a.Floats.Count];
                for (int i = 0; i < floats.Length; i++) floats[i] = FloatAttr.F32(a.Floats[i]);
                return new ArrayAttr(new ValueList<Attr>(floats));
            case AttrType.Strings:
                // An empty list keeps its type only as bytes (an empty [] exports as INTS).
                if (a.Strings.Count == 0) return null;
                return ArrayAttr.OfStrings(a.Strings.Select(s => StringBytes.Decode(s.Span)));
            case AttrType.Tensor:
                if (a.T is null || OnnxDataTypes.ElementOf(a.T.DataType) is null) return null;
                return TensorAttr(a.T, $"attribute '{a.Name}' of {NodeWhat(node)}", $"{_nodeNames[node]}.{a.Name}");
            default:
                return null;
        }
    }

    private Attr TensorAttr(TensorProto t, string what, string keyHint)
    {
        var data = _tensors.Read(t, what);
        if (data.Bytes.Length <= InlineTensorLimit) return new DenseElementsAttr(data.Type, data.Bytes, false);
        uint align = (uint)Math.Max(4, data.Type.Element.ByteSize);
        var key = _module.Resources.Add(keyHint, new ResourceBlob(align, data.Bytes));
        return new DenseResourceAttr(data.Type, key);
    }

    // ------------------------------------------------------------------ types of node outputs

    private static MirType Generalize(MirType type) => type is TensorType t ? TensorType.Unranked(t.Element) : type;

    private static ElementType? ElementOfOperand(Operation op, int i) =>
        i < op.OperandCount && op.GetOperand(i).Type is TensorType t ? t.Element : null;

    private static AttributeProto? FindAttr(NodeProto node, string name)
    {
        foreach (var a in node.Attribute)
            if (a.Name == name) return a;
        return null;
    }

    private static MirType? DTypeAttr(NodeProto node, string name) =>
        FindAttr(node, name) is { } a && a.I != 0 ? OnnxTypes.TensorOf((int)a.I, null) : null;

    private static MirType Unranked(ElementType? e) => TensorType.Unranked(e ?? ElementType.F32);

    private static readonly HashSet<string> BoolResultOps = new(StringComparer.Ordinal)
    {
        "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf",
        "OptionalHasElement", "RegexFullMatch",
    };

    private static readonly HashSet<string> I64ResultOps = new(StringComparer.Ordinal)
    {
        "Shape", "Size", "ArgMax", "ArgMin", "NonZero", "NonMaxSuppression", "SequenceLength",
    };

    /// <summary>
    /// The type of a node output that no value_info declares: the element type by the op's definition, and an
    /// unknown shape (never a wrong one).
    /// </summary>
    private static MirType InferResultType(NodeProto node, Operation op, int index)
    {
        var first = FirstTensorElement(op);
        if (!IsDefaultDomain(node.Domain)) return Unranked(first);
        switch (node.OpType)
        {
            case "Constant": return ConstantType(node);
            case "Cast": return DTypeAttr(node, "to") ?? Unranked(first);
            case "CastLike": return Unranked(ElementOfOperand(op, 1) ?? first);
            case "ConstantOfShape":
                return FindAttr(node, "value")?.T is { } cv ? OnnxTypes.TensorOf(cv.DataType, null) : Unranked(ElementType.F32);
            case "EyeLike" or "RandomNormalLike" or "RandomUniformLike" or "Bernoulli":
                return DTypeAttr(node, "dtype") ?? Unranked(first);
            case "RandomNormal" or "RandomUniform": return DTypeAttr(node, "dtype") ?? Unranked(ElementType.F32);
            case "Multinomial": return DTypeAttr(node, "dtype") ?? Unranked(ElementType.I32);
            case "TopK" or "MaxPool" when index == 1: return Unranked(ElementType.I64);
            case "Unique" when index >= 1: return Unranked(ElementType.I64);
            case "QuantizeLinear": return DTypeAttr(node, "output_dtype") ?? Unranked(ElementOfOperand(op, 2) ?? ElementType.UI8);
            case "DynamicQuantizeLinear": return Unranked(index == 1 ? ElementType.F32 : ElementType.UI8);
            case "DequantizeLinear": return Unranked(ElementOfOperand(op, 1) ?? ElementType.F32);
            case "QLinearConv" or "QLinearMatMul": return Unranked(ElementOfOperand(op, 7) ?? ElementType.UI8);
            case "MatMulInteger" or "ConvInteger": return Unranked(ElementType.I32);
            case "Where": return Unranked(ElementOfOperand(op, 1) ?? first);
            case "If": return RegionOutputType(op, 0, index);
            case "Loop": return RegionOutputType(op, 0, index + 1);
            case "Scan": return RegionOutputType(op, 0, index);
            case "SequenceEmpty":
                return new OpaqueType($"!onnx.Seq<{(DTypeAttr(node, "dtype") ?? Unranked(ElementType.F32)).Text}>");
            case "SequenceConstruct" or "SplitToSequence": return new OpaqueType($"!onnx.Seq<{Unranked(first).Text}>");
            case "SequenceInsert" or "SequenceErase":
                return op.OperandCount > 0 ? op.GetOperand(0).Type : new OpaqueType("!onnx.Seq<tensor<*xf32>>");
            case "SequenceAt" or "ConcatFromSequence":
                return op.OperandCount > 0 && OnnxTypes.InnerType(op.GetOperand(0).Type) is { } inner ? Generalize(inner) : Unranked(ElementType.F32);
            case "Optional":
                return new OpaqueType($"!onnx.Opt<{(op.OperandCount > 0 && op.GetOperand(0).Type is not ElementType ? op.GetOperand(0).Type : Unranked(ElementType.F32)).Text}>");
            case "OptionalGetElement":
                return op.OperandCount > 0 ? OnnxTypes.InnerType(op.GetOperand(0).Type) ?? op.GetOperand(0).Type : Unranked(ElementType.F32);
        }
        if (BoolResultOps.Contains(node.OpType)) return Unranked(ElementType.I1);
        if (I64ResultOps.Contains(node.OpType)) return Unranked(ElementType.I64);
        return Unranked(first);
    }

    private static ElementType? FirstTensorElement(Operation op)
    {
        for (int i = 0; i < op.OperandCount; i++)
            if (op.GetOperand(i).Type is TensorType t) return t.Element;
        return null;
    }

    private static MirType RegionOutputType(Operation op, int region, int index)
    {
        if (op.Regions.Count <= region || op.Regions[region].Blocks.Count == 0) return Unranked(null);
        var ops = op.Regions[region].Blocks[0].Operations;
        if (ops.Count == 0 || ops[^1].Name != "mo.yield" || ops[^1].OperandCount <= index) return Unranked(null);
        return Generalize(ops[^1].GetOperand(index).Type);
    }

    private static MirType ConstantType(NodeProto node)
    {
        foreach (var a in node.Attribute)
        {
            switch (a.Name)
            {
                case "value" when a.T is { } t: return OnnxTypes.TensorOf(t.DataType, t.Dims.ToArray());
                case "sparse_value" when a.SparseTensor is { } s:
                    return OnnxTypes.TensorOf(s.Values?.DataType ?? (int)DataType.Float, s.Dims.ToArray());
                case "value_float": return new TensorType(ElementType.F32, []);
                case "value_floats": return new TensorType(ElementType.F32, [a.Floats.Count]);
                case "value_int": return new TensorType(ElementType.I64, []);
                case "value_ints": return new TensorType(ElementType.I64, [a.Ints.Count]);
                case "value_string": return OnnxTypes.TensorOf((int)DataType.String, []);
                case "value_strings": return OnnxTypes.TensorOf((int)DataType.String, [a.Strings.Count]);
            }
        }
        return Unranked(ElementType.F32);
    }

    // ------------------------------------------------------------------ topological order

    /// <summary>
    /// The nodes in an order where each comes after the producers of what it reads (including what its subgraphs
    /// read from outside): the file's order when it already is one, else a stable topological sort.
    /// </summary>
    private List<NodeProto> SortNodes(GraphProto g, Scope scope)
    {
        var nodes = g.Node;
        int n = nodes.Count;
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
            foreach (var o in nodes[i].Output)
                if (o.Length > 0 && !producer.TryAdd(o, i))
                    throw new MirException($"'{_name}': tensor '{o}' is written by both {NodeWhat(nodes[producer[o]])} and {NodeWhat(nodes[i])}");

        bool sorted = true;
        for (int i = 0; i < n && sorted; i++)
            foreach (var input in InputsOf(nodes[i]))
                if (producer.TryGetValue(input, out int p) && p >= i) { sorted = false; break; }
        var list = new List<NodeProto>(n);
        if (sorted) { list.AddRange(nodes); return list; }

        var successors = new List<int>[n];
        var indegree = new int[n];
        var predecessors = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            predecessors[i] = new List<int>();
            foreach (var input in InputsOf(nodes[i]).Distinct())
                if (producer.TryGetValue(input, out int p))
                {
                    (successors[p] ??= new List<int>()).Add(i);
                    predecessors[i].Add(p);
                    indegree[i]++;
                }
        }
        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < n; i++) if (indegree[i] == 0) ready.Enqueue(i, i);
        while (ready.TryDequeue(out int i, out _))
        {
            list.Add(nodes[i]);
            if (successors[i] is { } succ)
                foreach (int s in succ)
                    if (--indegree[s] == 0) ready.Enqueue(s, s);
        }
        if (list.Count == n) return list;

        // A cycle: walk back through unfinished predecessors until a node repeats.
        int start = Array.FindIndex(indegree, d => d > 0);
        var path = new List<int>();
        var seen = new Dictionary<int, int>();
        int at = start;
        while (!seen.ContainsKey(at))
        {
            seen[at] = path.Count;
            path.Add(at);
            at = predecessors[at].First(p => indegree[p] > 0);
        }
        var cycle = path.Skip(seen[at]).Reverse().Select(i => $"'{_nodeNames[nodes[i]]}'").ToList();
        cycle.Add(cycle[0]);
        throw new MirException($"'{_name}': the {scope.What} has a cycle: {string.Join(" -> ", cycle)}");
    }

    /// <summary>What a node reads: its inputs and the outer values its subgraphs use.</summary>
    private IEnumerable<string> InputsOf(NodeProto node)
    {
        foreach (var i in node.Input)
            if (i.Length > 0) yield return i;
        foreach (var a in node.Attribute)
        {
            if (a.G is { } g)
                foreach (var f in FreeNames(g)) yield return f;
            foreach (var sub in a.Graphs)
                foreach (var f in FreeNames(sub)) yield return f;
        }
    }

    private HashSet<string> FreeNames(GraphProto g)
    {
        if (_freeNames.TryGetValue(g, out var free)) return free;
        var defined = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in g.Input) defined.Add(i.Name);
        foreach (var t in g.Initializer) defined.Add(t.Name);
        foreach (var s in g.SparseInitializer) if (s.Values is { } v) defined.Add(v.Name);
        foreach (var node in g.Node) foreach (var o in node.Output) defined.Add(o);
        free = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in g.Node)
            foreach (var i in InputsOf(node))
                if (!defined.Contains(i)) free.Add(i);
        foreach (var o in g.Output)
            if (!defined.Contains(o.Name)) free.Add(o.Name);
        _freeNames[g] = free;
        return free;
    }
}
