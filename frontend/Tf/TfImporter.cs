using Google.Protobuf;
using Mopt.Dialects.Tf;
using Mopt.Ir;
using Mopt.Tf.Proto;

namespace Mopt.Frontend.Tf;

/// <summary>
/// TensorFlow GraphDef → module (docs/formats/tensorflow.md). Every node becomes <c>tf.&lt;op&gt;</c> with its attributes,
/// named by <c>loc("node")</c>, in an order where every input comes first; <c>Placeholder</c>s become the function's
/// arguments; <c>Const</c> tensors go to resource blobs as bytes; a node's device and control inputs are kept in
/// <c>tf.device</c> and <c>tf.control_inputs</c>. The results are the tensors the options name, or every node no one consumes.
/// </summary>
public sealed class TfImporter
{
    private readonly GraphDef _graph;
    private readonly string _name;
    private readonly TfImportOptions _options;
    private readonly MirModule _module = MirModule.Create();
    private readonly TfAttributes _attrs;

    private TfImporter(GraphDef graph, string name, TfImportOptions options)
    {
        _graph = graph;
        _name = name;
        _options = options;
        _attrs = new TfAttributes(_module);
    }

    public static MirModule ImportFile(string path, TfImportOptions? options = null)
    {
        GraphDef graph;
        try { graph = WholeFile.Parse(path, bytes => Parse(bytes, path)); }
        catch (FileNotFoundException) { throw new MirException($"cannot read '{path}': file not found"); }
        catch (DirectoryNotFoundException) { throw new MirException($"cannot read '{path}': no such folder"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }
        return Import(graph, path, options);
    }

    /// <summary>Parses a GraphDef's bytes, with a clear error for what is not one.</summary>
    public static GraphDef Parse(byte[] bytes, string name) => Parse(bytes.AsSpan(), name);

    /// <summary>Parses a GraphDef's bytes (copying out what it keeps), with a clear error for what is not one.</summary>
    public static GraphDef Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length == 0) throw new MirException($"'{name}': not a TensorFlow GraphDef: the file is empty");
        GraphDef graph;
        try { graph = GraphDef.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            var why = ProtobufErrors.Why(e, "GraphDef");
            throw new MirException($"'{name}': not a TensorFlow GraphDef: {why}");
        }
        return Check(graph, name);
    }

    /// <summary>The checks that tell a GraphDef from another protobuf that happened to parse as one.</summary>
    public static GraphDef Check(GraphDef graph, string name)
    {
        // Another protobuf often parses as a GraphDef with nameless nodes or none: a real graph names each node and its op.
        if (graph.Node.Count == 0 && graph.Library is null)
            throw new MirException($"'{name}': not a TensorFlow GraphDef: it has no nodes");
        if (graph.Node.FirstOrDefault(n => n.Name.Length == 0 || n.Op.Length == 0) is { } bad)
            throw new MirException($"'{name}': not a TensorFlow GraphDef (or a truncated one): a node has no {(bad.Name.Length == 0 ? "name" : $"op ('{bad.Name}')")}");
        return graph;
    }

    public static MirModule Import(GraphDef graph, string name, TfImportOptions? options = null) =>
        new TfImporter(graph, name, options ?? TfImportOptions.Default).Run();

    internal readonly record struct Input(string Node, int Index, bool Control);

    /// <summary>A node input or tensor name: <c>n</c>, <c>n:1</c>, <c>^n</c> (control).</summary>
    internal static Input ParseInput(string s)
    {
        if (s.StartsWith('^')) return new Input(s[1..], 0, true);
        int colon = s.LastIndexOf(':');
        if (colon > 0 && int.TryParse(s.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i))
            return new Input(s[..colon], i, false);
        return new Input(s, 0, false);
    }

    private MirModule Run()
    {
        var m = _module.Op;
        m.SetAttr("mo.source", new StringAttr("tf"));
        if (_graph.Versions is { } v)
        {
            m.SetAttr("tf.producer", IntegerAttr.I64(v.Producer));
            if (v.MinConsumer != 0) m.SetAttr("tf.min_consumer", IntegerAttr.I64(v.MinConsumer));
            if (v.BadConsumers.Count > 0) m.SetAttr("tf.bad_consumers", ArrayAttr.OfInts(v.BadConsumers.Select(b => (long)b)));
        }
        if (_graph.Version != 0) m.SetAttr("tf.version", IntegerAttr.I64(_graph.Version));
        // What mopt does not interpret is kept serialized and written back unchanged.
        if (_graph.Library is { } lib) m.SetAttr("tf.library", Bytes(lib.ToByteArray()));
        if (!_graph.DebugInfo.IsEmpty) m.SetAttr("tf.debug_info", Bytes(_graph.DebugInfo.Memory));

        var byName = new Dictionary<string, NodeDef>(StringComparer.Ordinal);
        foreach (var n in _graph.Node)
            if (!byName.TryAdd(n.Name, n)) throw new MirException($"'{_name}': node '{n.Name}': the name is used twice");

        // How many results each node has: one more than the highest output anyone reads (at least one).
        var resultCount = _graph.Node.ToDictionary(n => n.Name, _ => 1, StringComparer.Ordinal);
        var consumed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in _graph.Node)
            foreach (var s in n.Input)
            {
                var input = ParseInput(s);
                if (!byName.ContainsKey(input.Node))
                    throw new MirException($"'{_name}': node '{n.Name}' ({n.Op}): input '{s}' names no node");
                consumed.Add(input.Node);
                if (!input.Control) resultCount[input.Node] = Math.Max(resultCount[input.Node], input.Index + 1);
            }
        var outputs = _options.Outputs.Count > 0
            ? _options.Outputs.Select(ParseInput).ToList()
            : _graph.Node.Where(n => !consumed.Contains(n.Name) && n.Op != "Placeholder").Select(n => new Input(n.Name, 0, false)).ToList();
        foreach (var o in outputs)
        {
            if (!byName.ContainsKey(o.Node)) throw new MirException($"'{_name}': output '{o.Node}' names no node");
            resultCount[o.Node] = Math.Max(resultCount[o.Node], o.Index + 1);
        }

        var cut = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in _options.Inputs.Select(ParseInput))
        {
            if (!byName.ContainsKey(c.Node) || c.Control || c.Index != 0)
                throw new MirException($"'{_name}': input '{c.Node}' {(byName.ContainsKey(c.Node) ? "must name a node's first output" : "names no node")}");
            cut.Add(c.Node);
        }
        var keep = cut.Count > 0 ? Between(cut, outputs, byName) : null;
        var placeholders = _graph.Node.Where(n => keep is null ? n.Op == "Placeholder" : keep.Contains(n.Name) && (n.Op == "Placeholder" || cut.Contains(n.Name))).ToList();
        var argTypes = new List<MirType>();
        foreach (var p in placeholders)
        {
            if (p.Op != "Placeholder") { argTypes.Add(CutType(p)); continue; }
            if (!p.Attr.TryGetValue("dtype", out var dt) || dt.ValueCase != AttrValue.ValueOneofCase.Type)
                throw new MirException($"'{_name}': node '{p.Name}' (Placeholder) has no dtype");
            p.Attr.TryGetValue("shape", out var shape);
            argTypes.Add(TfAttributes.TensorTypeOf((int)dt.Type, shape?.Shape));
        }
        var func = _module.AddFunction("main", argTypes, []);
        var values = new Dictionary<string, Operation>(StringComparer.Ordinal);
        var args = new Dictionary<string, Value>(StringComparer.Ordinal);
        for (int i = 0; i < placeholders.Count; i++)
        {
            var p = placeholders[i];
            var attrs = new List<NamedAttr> { new("mo.name", new StringAttr(p.Name)) };
            // The Placeholder's own attributes (dtype, shape, _output_shapes, ...) so that the written node is the same.
            attrs.Add(new NamedAttr("tf.attrs", p.Op == "Placeholder" ? NodeAttrs(p) : DictionaryAttr.From(
                [new NamedAttr("dtype", new TypeAttr(((TensorType)argTypes[i]).Element)), new NamedAttr("shape", UnitAttr.Instance)])));
            if (p.Device.Length > 0) attrs.Add(new NamedAttr("tf.device", new StringAttr(p.Device)));
            // A cut node's own inputs are left behind; a Placeholder has control inputs only.
            if (p.Op == "Placeholder" && p.Input.Count > 0) attrs.Add(new NamedAttr("tf.control_inputs", ArrayAttr.OfStrings(p.Input.Select(s => ParseInput(s).Node))));
            func.SetArgAttrs(i, DictionaryAttr.From(attrs));
            args[p.Name] = func.Arguments[i];
        }

        var builder = OpBuilder.AtEnd(func.Body);
        foreach (var n in TopologicalOrder(byName))
        {
            if (n.Op == "Placeholder" || args.ContainsKey(n.Name) || (keep is not null && !keep.Contains(n.Name))) continue;
            var operands = new List<Value>();
            var control = new List<string>();
            foreach (var s in n.Input)
            {
                var input = ParseInput(s);
                if (input.Control) { control.Add(input.Node); continue; }
                operands.Add(args.TryGetValue(input.Node, out var arg)
                    ? (input.Index == 0 ? arg : throw new MirException($"'{_name}': node '{n.Name}': input '{s}': a Placeholder has one output"))
                    : values[input.Node].Results[input.Index]);
            }
            var attrs = NodeAttrs(n).Entries.ToList();
            if (n.Device.Length > 0) attrs.Add(new NamedAttr("tf.device", new StringAttr(n.Device)));
            if (control.Count > 0) attrs.Add(new NamedAttr("tf.control_inputs", ArrayAttr.OfStrings(control)));
            if (!n.ExperimentalDebugInfo.IsEmpty) attrs.Add(new NamedAttr("tf.experimental_debug_info", Bytes(n.ExperimentalDebugInfo.Memory)));
            if (!n.ExperimentalType.IsEmpty) attrs.Add(new NamedAttr("tf.experimental_type", Bytes(n.ExperimentalType.Memory)));
            var types = Enumerable.Repeat<MirType>(TfDialect.UnknownTensor, resultCount[n.Name]).ToArray();
            if (n.Op == "Const" && types.Length == 1)
                types[0] = attrs.FirstOrDefault(a => a.Name == "value").Value switch { DenseElementsAttr d => d.Type, DenseResourceAttr r => r.Type, _ => types[0] };
            values[n.Name] = builder.Create("tf." + n.Op, operands, types, attrs, Location.Named(n.Name));
        }

        var results = new List<Value>();
        foreach (var o in outputs)
            results.Add(args.TryGetValue(o.Node, out var arg) ? arg : values[o.Node].Results[o.Index]);
        builder.Return(results);
        func.UpdateType();
        for (int i = 0; i < outputs.Count; i++)
            func.SetResultAttrs(i, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr(outputs[i].Index == 0 ? outputs[i].Node : $"{outputs[i].Node}:{outputs[i].Index}"))]));
        Verifier.Verify(_module, $"'{_name}'");
        return _module;
    }

    /// <summary>The nodes the outputs need, walking inputs (data and control) back no further than the cut nodes.</summary>
    private static HashSet<string> Between(HashSet<string> cut, List<Input> outputs, Dictionary<string, NodeDef> byName)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal);
        var work = new Stack<string>(outputs.Select(o => o.Node));
        while (work.Count > 0)
        {
            var name = work.Pop();
            if (!keep.Add(name) || cut.Contains(name)) continue;
            foreach (var s in byName[name].Input) work.Push(ParseInput(s).Node);
        }
        return keep;
    }

    /// <summary>A cut node's output as an argument: its <c>T</c> (or <c>dtype</c>) element type, shape unknown.</summary>
    private MirType CutType(NodeDef n)
    {
        foreach (var key in new[] { "T", "dtype" })
            if (n.Attr.TryGetValue(key, out var v) && v.ValueCase == AttrValue.ValueOneofCase.Type && TfDataTypes.ElementOf((int)v.Type) is { } e)
                return TensorType.Unranked(e);
        throw new MirException($"'{_name}': cannot cut at node '{n.Name}' ({n.Op}): it has no T or dtype attribute of a numeric type to give the input");
    }

    /// <summary>The node's attributes by name; a Const's value goes to a resource blob unless it is a splat.</summary>
    private DictionaryAttr NodeAttrs(NodeDef n) => DictionaryAttr.From(n.Attr.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv =>
        new NamedAttr(kv.Key, n.Op == "Const" && kv.Key == "value" && kv.Value.ValueCase == AttrValue.ValueOneofCase.Tensor
            ? _attrs.Tensor(kv.Value.Tensor, n.Name, $"'{_name}': node '{n.Name}' (Const)", 0)
            : _attrs.Convert(kv.Value, $"{n.Name}_{kv.Key}", $"'{_name}': node '{n.Name}' ({n.Op}) attribute '{kv.Key}'"))));

    /// <summary>The nodes with every input (data or control) before its consumer, otherwise in file order; a cycle is an error.</summary>
    private List<NodeDef> TopologicalOrder(Dictionary<string, NodeDef> byName)
    {
        var order = new List<NodeDef>(_graph.Node.Count);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1: on the path, 2: done
        foreach (var root in _graph.Node)
        {
            if (state.ContainsKey(root.Name)) continue;
            var stack = new Stack<(NodeDef Node, int Next)>();
            stack.Push((root, 0));
            state[root.Name] = 1;
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                if (next < node.Input.Count)
                {
                    stack.Push((node, next + 1));
                    var input = byName[ParseInput(node.Input[next]).Node];
                    if (state.TryGetValue(input.Name, out int s))
                    {
                        if (s == 1) throw new MirException($"'{_name}': node '{node.Name}' ({node.Op}): its input '{node.Input[next]}' depends on it (a cycle; loops are not supported)");
                        continue;
                    }
                    state[input.Name] = 1;
                    stack.Push((input, 0));
                }
                else
                {
                    state[node.Name] = 2;
                    order.Add(node);
                }
            }
        }
        return order;
    }

    private static DenseElementsAttr Bytes(ReadOnlyMemory<byte> bytes) => new(new TensorType(ElementType.UI8, [bytes.Length]), bytes.ToArray(), false);
}
