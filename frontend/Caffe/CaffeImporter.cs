using System.Buffers;
using Google.Protobuf;
using Mopt.Caffe.Proto;
using Mopt.Caffe.Proto.Weights;
using Mopt.Dialects.Caffe;
using Mopt.Dialects.Mo;
using Mopt.Ir;
using Mopt.Protobuf;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// Caffe NetParameter → module (docs/formats/caffe.md). The structure comes from one net (a prototxt or a caffemodel),
/// the blobs from the same net or from a second one (a caffemodel), matched by layer name. Every layer that the TEST
/// phase keeps becomes <c>caffe.&lt;type&gt;</c> named by <c>loc("layer")</c>: its bottoms then its blobs
/// (<c>onnx.Constant</c>s of resource bytes) as operands, its tops as fresh results (an in-place layer too),
/// its parameter message's fields as attributes. <c>input</c>/<c>input_shape</c>/<c>input_dim</c> and Input layers
/// become the function's arguments; the tops no layer reads are its results.
/// </summary>
public sealed class CaffeImporter
{
    /// <summary>Bytes of the layer's own parameter message that its schema does not know (its fields are the op's attributes).</summary>
    public const string ParamUnknownFieldsAttr = "caffe.param_unknown_fields";

    /// <summary>A top's type: Caffe computes in f32 and a NetParameter has no shapes but its inputs'.</summary>
    public static readonly TensorType Unknown = TensorType.Unranked(ElementType.F32);

    private readonly NetParameter _net;
    private readonly string _name;
    private readonly Dictionary<string, IReadOnlyList<CaffeRawBlob>>? _weights;
    private readonly string _weightsName;
    private readonly MirModule _module = MirModule.Create();
    private readonly CaffeAttributes _attributes = new(new CaffeFieldNumbers());
    private readonly List<NamedAttr> _layerAttrs = [];
    /// <summary>The bytes of each <c>layer</c> when the net was read from them (then <see cref="_net"/> has none), else null.</summary>
    private readonly List<ReadOnlyMemory<byte>>? _layerWire;

    private CaffeImporter(NetParameter net, string name, Dictionary<string, IReadOnlyList<CaffeRawBlob>>? weights, string? weightsName,
        List<ReadOnlyMemory<byte>>? layerWire = null)
    {
        _net = net;
        _name = name;
        _weights = weights;
        _weightsName = weightsName ?? name;
        _layerWire = layerWire;
    }

    /// <summary>A <c>.caffemodel</c> alone: structure and blobs from the one file.</summary>
    public static MirModule ImportFile(string path) => Import(ReadFile(path), path);

    /// <summary>The net <paramref name="net"/> (from <paramref name="name"/>), its blobs from <paramref name="weights"/> if given, else from itself.</summary>
    public static MirModule Import(NetParameter net, string name, NetParameter? weights = null, string? weightsName = null) =>
        new CaffeImporter(net, name, weights is null ? null : WeightsByLayer(weights), weightsName).Run();

    /// <summary>The net <paramref name="net"/> (from <paramref name="name"/>) with the blobs of the caffemodel at <paramref name="weightsPath"/>.</summary>
    public static MirModule Import(NetParameter net, string name, string weightsPath) =>
        new CaffeImporter(net, name, ReadWeightsFile(weightsPath), weightsPath).Run();

    /// <summary>
    /// The net of the wire bytes <paramref name="wire"/> (a prototxt's transcoded text, from <paramref name="name"/>),
    /// each layer read from its bytes there (<see cref="CaffeLayer"/>), its blobs from the caffemodel at
    /// <paramref name="weightsPath"/> if given; the net's own fields (inputs, state) through the generated parser.
    /// </summary>
    internal static MirModule Import(ReadOnlyMemory<byte> wire, string name, string? weightsPath)
    {
        var layers = new List<ReadOnlyMemory<byte>>();
        var head = NetHead(wire, layers);
        return new CaffeImporter(head, name, weightsPath is null ? null : ReadWeightsFile(weightsPath), weightsPath, layers).Run();
    }

    /// <summary>The net of <paramref name="wire"/> without its <c>layer</c>s, whose bytes are added to <paramref name="layers"/>.</summary>
    private static NetParameter NetHead(ReadOnlyMemory<byte> wire, List<ReadOnlyMemory<byte>> layers)
    {
        var bytes = wire.Span;
        var head = new ArrayBufferWriter<byte>(256);
        var input = new WireReader(bytes);
        while (!input.AtEnd)
        {
            int start = input.Position;
            uint tag = input.Tag();
            var wireType = WireFormat.GetTagWireType(tag);
            if (WireFormat.GetTagFieldNumber(tag) == NetParameter.LayerFieldNumber && wireType == WireFormat.WireType.LengthDelimited)
            {
                int size = input.LengthDelimited().Length;
                layers.Add(wire.Slice(input.Position - size, size));
            }
            else
            {
                input.Skip(wireType);
                head.Write(bytes[start..input.Position]);
            }
        }
        return NetParameter.Parser.ParseFrom(head.WrittenSpan);
    }

    /// <summary>
    /// The blobs of each layer of the caffemodel at <paramref name="path"/>, by layer name (its structure is not used),
    /// each blob's values a slice of the file's one buffer or mapping (<see cref="WholeFile.ReadOrMap"/>, <see cref="CaffeWeightsWalk"/>), which the module's resource
    /// blobs then keep; a file the walk does not read (unpacked values, or not a well-formed caffemodel) is read through
    /// the generated parser instead, with its errors.
    /// </summary>
    private static Dictionary<string, IReadOnlyList<CaffeRawBlob>> ReadWeightsFile(string path)
    {
        try
        {
            var file = WholeFile.ReadOrMap(path);
            return CaffeWeightsWalk.TryRead(file) ?? WeightsOf(file.Span, path);
        }
        catch (FileNotFoundException) { throw new MirException($"cannot read '{path}': file not found"); }
        catch (DirectoryNotFoundException) { throw new MirException($"cannot read '{path}': no such folder"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }
    }

    private static Dictionary<string, IReadOnlyList<CaffeRawBlob>> WeightsOf(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length == 0) throw new MirException($"'{name}': not a Caffe NetParameter: the file is empty");
        WeightsNet net;
        try { net = WeightsNet.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw new MirException($"'{name}': not a Caffe NetParameter: {ProtobufErrors.Why(e, "NetParameter")}");
        }
        var blobs = net.Layer.SelectMany(l => l.Blobs).Concat(net.Layers.SelectMany(l => l.Blobs));
        if (blobs.Any(CaffeRawBlob.Unpacked)) return WeightsByLayer(Parse(bytes, name));
        if (net.Layer.Count == 0 && net.Layers.Count == 0)
            throw new MirException($"'{name}': not a Caffe NetParameter: it has no layers");
        if (net.Layer.FirstOrDefault(l => l.Type.Length == 0) is { } bad)
            throw new MirException($"'{name}': not a Caffe NetParameter (or a truncated one): layer '{bad.Name}' has no type");
        var byName = new Dictionary<string, IReadOnlyList<CaffeRawBlob>>(StringComparer.Ordinal);
        foreach (var l in net.Layer) byName[l.Name] = l.Blobs.Select(CaffeRawBlob.From).ToList();
        foreach (var l in net.Layers) byName[l.Name] = l.Blobs.Select(CaffeRawBlob.From).ToList();
        return byName;
    }

    /// <summary>A binary NetParameter file (a <c>.caffemodel</c>), with clear errors for a missing, truncated or foreign file.</summary>
    public static NetParameter ReadFile(string path)
    {
        try { return WholeFile.Parse(path, bytes => Parse(bytes, path)); }
        catch (FileNotFoundException) { throw new MirException($"cannot read '{path}': file not found"); }
        catch (DirectoryNotFoundException) { throw new MirException($"cannot read '{path}': no such folder"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }
    }

    /// <summary>Parses a binary NetParameter, telling it from another protobuf that happened to parse as one.</summary>
    public static NetParameter Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length == 0) throw new MirException($"'{name}': not a Caffe NetParameter: the file is empty");
        NetParameter net;
        try { net = NetParameter.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            var why = ProtobufErrors.Why(e, "NetParameter");
            throw new MirException($"'{name}': not a Caffe NetParameter: {why}");
        }
        if (net.Layer.Count == 0 && net.Layers.Count == 0)
            throw new MirException($"'{name}': not a Caffe NetParameter: it has no layers");
        if (net.Layer.FirstOrDefault(l => l.Type.Length == 0) is { } bad)
            throw new MirException($"'{name}': not a Caffe NetParameter (or a truncated one): layer '{bad.Name}' has no type");
        return net;
    }

    private MirModule Run()
    {
        var m = _module.Op;
        m.SetAttr("mo.source", new StringAttr("caffe"));
        if (_net.HasName) m.SetAttr("caffe.name", new StringAttr(_net.Name));
        if (_net.HasForceBackward) m.SetAttr("caffe.force_backward", _net.ForceBackward ? BoolAttr.True : BoolAttr.False);
        if (_net.HasDebugInfo) m.SetAttr("caffe.debug_info", _net.DebugInfo ? BoolAttr.True : BoolAttr.False);
        if (_net.State is { } state) m.SetAttr("caffe.state", _attributes.Message(state.ToByteArray(), NetState.Descriptor));

        if ((_layerWire?.Count ?? _net.Layer.Count) > 0 && _net.Layers.Count > 0)
            throw new MirException($"'{_name}': the net has both 'layer' and the legacy 'layers' (Caffe reads one or the other)");
        var all = new List<CaffeLayer>(_layerWire?.Count ?? _net.Layer.Count + _net.Layers.Count);
        if (_layerWire is not null) foreach (var bytes in _layerWire) all.Add(CaffeLayer.FromWire(bytes));
        foreach (var layer in _net.Layer) all.Add(CaffeLayer.From(layer));
        foreach (var layer in _net.Layers) all.Add(CaffeLayer.From(CaffeV1Layers.Upgrade(layer)));
        // A training snapshot (every layer saved with phase TRAIN) is imported as the net it is; any other net as TEST.
        var phase = all.Count > 0 && all.TrueForAll(l => l.Phase == Phase.Train) ? Phase.Train : Phase.Test;
        if (phase == Phase.Train) m.SetAttr("caffe.phase", new StringAttr("TRAIN"));
        var layers = new List<CaffeLayer>(all.Count);
        foreach (var layer in all)
            if (Included(layer, phase)) layers.Add(layer);

        // Inputs: the net's input fields, then each Input layer's tops.
        var inputs = NetInputs();
        foreach (var layer in layers)
        {
            if (layer.Type != "Input") continue;
            var shapes = layer.Param(LayerParameter.InputParamFieldNumber, InputParameter.Parser).Shape;
            if (shapes.Count > 1 && shapes.Count != layer.Top.Count)
                throw new MirException($"'{_name}': layer '{layer.Name}' (Input) has {layer.Top.Count} tops and {shapes.Count} shapes");
            for (int i = 0; i < layer.Top.Count; i++)
                inputs.Add((layer.Top[i], shapes.Count == 0 ? Unknown : new TensorType(ElementType.F32, shapes[shapes.Count == 1 ? 0 : i].Dim.ToArray()), layer.Name));
        }
        var func = _module.AddFunction("main", inputs.Select(i => (MirType)i.Type).ToList(), []);
        // Sized once for the net's values (no rehash as they grow): an input or a top each.
        var current = new Dictionary<string, Value>(inputs.Count + layers.Count, StringComparer.Ordinal);
        for (int i = 0; i < inputs.Count; i++)
        {
            var attrs = new List<NamedAttr> { new(MoDialect.NameAttr, new StringAttr(inputs[i].Name)) };
            if (inputs[i].Layer is { } layerName) attrs.Add(new NamedAttr("caffe.layer", new StringAttr(layerName)));
            func.SetArgAttrs(i, DictionaryAttr.From(attrs));
            current[inputs[i].Name] = func.Arguments[i];
        }

        var weights = _weights;
        var builder = OpBuilder.AtEnd(func.Body);
        // Every blob's constant goes before the first layer, in layer order, as in the ONNX the net becomes (weights
        // first): the data flow's order, which sort-by-execution-order then keeps instead of moving every layer. Made
        // with their layers, put in that order once at the end (inserting each before the layers is quadratic).
        var blobOps = new List<Operation>(2 * layers.Count);
        var layerOps = new List<Operation>(layers.Count);
        var consumed = new HashSet<Value>(layers.Count);
        var produced = new List<(Value Value, string Top)>(layers.Count);
        foreach (var layer in layers)
        {
            if (layer.Type == "Input") continue;
            var operands = new List<Value>(layer.Bottom.Count + layer.BlobCount + 2);
            foreach (var bottom in layer.Bottom)
            {
                if (!current.TryGetValue(bottom, out var value))
                    throw new MirException($"{new CaffeLayerWhat(_name, layer)}: bottom '{bottom}' is the top of no layer before it");
                operands.Add(value);
                consumed.Add(value);
            }
            var blobs = Blobs(layer, weights);
            var location = layer.Name.Length > 0 ? Location.Named(layer.Name) : null;
            for (int i = 0; i < blobs.Count; i++)
            {
                var blob = builder.ResourceConstant(_module, $"{layer.Name}_{i}", blobs[i].Type, blobs[i].Bytes, location);
                operands.Add(blob);
                blobOps.Add(((OpResult)blob).Owner);
            }

            var attrs = LayerAttrs(layer);
            attrs.Add(new NamedAttr(MoDialect.OutputsAttr, ArrayAttr.OfStrings(layer.Top)));
            if (blobs.Count > 0) attrs.Add(new NamedAttr(CaffeDialect.BlobsAttr, IntegerAttr.I64(blobs.Count)));
            var resultTypes = new MirType[layer.Top.Count];
            Array.Fill(resultTypes, Unknown);
            var op = builder.Create(CaffeDialect.Name + "." + layer.Type, operands, resultTypes, attrs, location);
            layerOps.Add(op);
            for (int i = 0; i < layer.Top.Count; i++)
            {
                current[layer.Top[i]] = op.Results[i];
                produced.Add((op.Results[i], layer.Top[i]));
            }
        }

        var outputs = new List<(Value Value, string Top)>();
        var results = new List<Value>();
        foreach (var p in produced)
            if (!consumed.Contains(p.Value))
            {
                outputs.Add(p);
                results.Add(p.Value);
            }
        if (blobOps.Count > 0) func.Body.Reorder([.. blobOps, .. layerOps]);
        builder.Return(results);
        func.UpdateType();
        for (int i = 0; i < outputs.Count; i++)
            func.SetResultAttrs(i, DictionaryAttr.From([new NamedAttr(MoDialect.NameAttr, new StringAttr(outputs[i].Top))]));
        Verifier.Verify(_module, $"'{_name}'");
        return _module;
    }

    /// <summary>The net's <c>input</c> blobs with their <c>input_shape</c> or 4 <c>input_dim</c>s each (or no shape).</summary>
    private List<(string Name, TensorType Type, string? Layer)> NetInputs()
    {
        var inputs = new List<(string, TensorType, string?)>();
        if (_net.InputShape.Count > 0 && _net.InputShape.Count != _net.Input.Count)
            throw new MirException($"'{_name}': the net has {_net.Input.Count} inputs and {_net.InputShape.Count} input_shapes");
        if (_net.InputDim.Count > 0 && _net.InputDim.Count != 4 * _net.Input.Count)
            throw new MirException($"'{_name}': the net has {_net.Input.Count} inputs and {_net.InputDim.Count} input_dims (4 per input)");
        for (int i = 0; i < _net.Input.Count; i++)
        {
            var type = _net.InputShape.Count > 0 ? new TensorType(ElementType.F32, _net.InputShape[i].Dim.ToArray())
                : _net.InputDim.Count > 0 ? new TensorType(ElementType.F32, _net.InputDim.Skip(4 * i).Take(4).Select(d => (long)d).ToArray())
                : Unknown;
            inputs.Add((_net.Input[i], type, null));
        }
        if (_net.InputShape.Count > 0) _module.Op.SetAttr("caffe.input_form", new StringAttr("input_shape"));
        else if (_net.InputDim.Count > 0) _module.Op.SetAttr("caffe.input_form", new StringAttr("input_dim"));
        return inputs;
    }

    /// <summary>The blobs of each layer of the weights net by name (its structure is not used).</summary>
    private static Dictionary<string, IReadOnlyList<CaffeRawBlob>> WeightsByLayer(NetParameter weights)
    {
        var byName = new Dictionary<string, IReadOnlyList<CaffeRawBlob>>(StringComparer.Ordinal);
        foreach (var l in weights.Layer) byName[l.Name] = l.Blobs.Select(CaffeRawBlob.From).ToList();
        foreach (var l in weights.Layers) byName[l.Name] = l.Blobs.Select(CaffeRawBlob.From).ToList();
        return byName;
    }

    private List<CaffeBlobs.Blob> Blobs(CaffeLayer layer, Dictionary<string, IReadOnlyList<CaffeRawBlob>>? weights)
    {
        IReadOnlyList<CaffeRawBlob> blobs = layer.BlobCount == 0 ? [] : layer.Blobs().Select(CaffeRawBlob.From).ToList();
        var what = new CaffeLayerWhat(_name, layer);
        if (weights is not null)
        {
            // The structure's own blobs (a caffemodel given as both) win; else the weights net's layer of that name.
            if (blobs.Count == 0 && weights.TryGetValue(layer.Name, out var named)) blobs = named;
            if (blobs.Count > 0 && layer.BlobCount == 0) what = new CaffeLayerWhat(_weightsName, layer);
        }
        return CaffeBlobs.Read(layer, blobs, what);
    }

    /// <summary>Whether <paramref name="phase"/> keeps the layer (Caffe's Net::FilterNet with the net's level and stages).</summary>
    private bool Included(CaffeLayer layer, Phase phase)
    {
        // Most layers have no rules: they are kept without building the rule check (a NetState and a closure each).
        if (!layer.HasRules) return true;
        var state = _net.State ?? new NetState();
        bool Meets(NetStateRule rule) =>
            (!rule.HasPhase || rule.Phase == phase)
            && (!rule.HasMinLevel || state.Level >= rule.MinLevel)
            && (!rule.HasMaxLevel || state.Level <= rule.MaxLevel)
            && rule.Stage.All(state.Stage.Contains)
            && !rule.NotStage.Any(state.Stage.Contains);
        if (layer.Include.Count > 0) return layer.Include.Any(Meets);
        return !layer.Exclude.Any(Meets);
    }

    /// <summary>
    /// The layer's fields but its place in the net and its blobs as attributes (<see cref="CaffeAttributes.Layer"/>), in
    /// a list reused from layer to layer (the op copies it).
    /// </summary>
    private List<NamedAttr> LayerAttrs(CaffeLayer layer)
    {
        var attrs = _layerAttrs;
        attrs.Clear();
        _attributes.Layer(layer.Bytes.Span, CaffeLayerParams.OwnParam(layer.Type), attrs);
        return attrs;
    }
}
