using Google.Protobuf;
using Mopt.Dialects.Tf;
using Mopt.Frontend.Tf.Checkpoints;
using Mopt.Ir;
using Mopt.Tf.Proto;

namespace Mopt.Frontend.Tf;

/// <summary>
/// A training graph and its checkpoint → a frozen GraphDef, as TensorFlow's <c>freeze_graph</c> does
/// (<c>convert_variables_to_constants</c> then <c>extract_sub_graph</c>): only the nodes the outputs need (through data
/// and control inputs, stopping at the cut nodes) are kept; each <c>VariableV2</c>/<c>Variable</c> among them becomes a
/// <c>Const</c> of the same name holding the checkpoint's tensor (its <c>x/read</c> Identity stays), and each
/// <c>ReadVariableOp</c> of a <c>VarHandleOp</c> becomes that <c>Const</c> (the handle is left behind). The saver and
/// the training nodes (Assign, initializers, optimizers) are left behind because no output needs them; an output that
/// does need a node writing a variable is an error. The tensor's checkpoint key is the one the graph's own saver
/// restores the variable from (its <c>RestoreV2</c> names), else the variable's node name (a VarHandleOp's
/// <c>shared_name</c> when set).
/// </summary>
public sealed class TfFreezer
{
    private readonly GraphDef _graph;
    private readonly TensorBundle _bundle;
    private readonly string _name;
    private readonly Dictionary<string, NodeDef> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _keys = new(StringComparer.Ordinal);          // variable node → the key its saver restores it from
    private readonly Dictionary<string, string> _frozenKeys = new(StringComparer.Ordinal);    // Const made → the key it holds
    private readonly Dictionary<string, byte[]> _read = new(StringComparer.Ordinal);          // key → its bytes, read once

    private TfFreezer(GraphDef graph, TensorBundle bundle, string name)
    {
        _graph = graph;
        _bundle = bundle;
        _name = name;
    }

    /// <summary>
    /// The frozen graph, and for each Const made from the checkpoint its node name → checkpoint key.
    /// <paramref name="options"/> gives the outputs (required, as freeze_graph's <c>--output_node_names</c>) and the cut nodes.
    /// </summary>
    public static (GraphDef Graph, IReadOnlyDictionary<string, string> Keys) Freeze(GraphDef graph, TensorBundle bundle, TfImportOptions options, string name)
    {
        var freezer = new TfFreezer(graph, bundle, name);
        var frozen = freezer.Run(options);
        return (frozen, freezer._frozenKeys);
    }

    /// <summary>The ops that change a variable or a checkpoint: a frozen graph has none.</summary>
    private static bool WritesState(string op) =>
        op.StartsWith("Assign", StringComparison.Ordinal) || op.StartsWith("Apply", StringComparison.Ordinal)
        || op.StartsWith("ResourceApply", StringComparison.Ordinal) || ScatterWrites.Contains(op)
        || op.StartsWith("ResourceScatter", StringComparison.Ordinal) || op.StartsWith("Save", StringComparison.Ordinal)
        || op.StartsWith("Restore", StringComparison.Ordinal) || op is "MergeV2Checkpoints" or "DestroyResourceOp";

    private static readonly HashSet<string> ScatterWrites = new(StringComparer.Ordinal)
    {
        "ScatterUpdate", "ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv", "ScatterMin", "ScatterMax",
        "ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub", "ScatterNdMin", "ScatterNdMax",
    };

    private static TfImporter.Input ParseInput(string s) => TfImporter.ParseInput(s);

    private GraphDef Run(TfImportOptions options)
    {
        foreach (var n in _graph.Node)
            if (!_byName.TryAdd(n.Name, n)) throw new MirException($"'{_name}': node '{n.Name}': the name is used twice");
        if (options.Outputs.Count == 0)
        {
            var consumed = _graph.Node.SelectMany(n => n.Input).Select(s => ParseInput(s).Node).ToHashSet(StringComparer.Ordinal);
            var sinks = _graph.Node.Where(n => !consumed.Contains(n.Name) && !WritesState(n.Op) && n.Op != "NoOp").Select(n => n.Name).Take(10).ToList();
            throw new MirException($"'{_name}': freezing needs --tf-outputs (the nodes to keep, freeze_graph's --output_node_names)"
                + (sinks.Count > 0 ? $"; nodes no one consumes: {string.Join(", ", sinks)}" : ""));
        }
        SaverKeys();

        var cut = options.Inputs.Select(s => ParseInput(s).Node).ToHashSet(StringComparer.Ordinal);
        var keep = new HashSet<string>(StringComparer.Ordinal);
        var replaced = new Dictionary<string, NodeDef>(StringComparer.Ordinal);
        var work = new Stack<(string Node, NodeDef? Consumer, string Input)>();
        foreach (var o in options.Outputs) work.Push((ParseInput(o).Node, null, o));
        while (work.Count > 0)
        {
            var (name, consumer, input) = work.Pop();
            if (!_byName.TryGetValue(name, out var node))
                throw new MirException(consumer is null ? $"'{_name}': output '{name}' names no node"
                    : $"'{_name}': node '{consumer.Name}' ({consumer.Op}): input '{input}' names no node");
            if (!keep.Add(name)) continue;
            if (cut.Contains(name))
            {
                // The importer makes it an input and reads nothing behind it: what it read is not frozen, so not kept.
                var argument = node.Clone();
                argument.Input.Clear();
                replaced[name] = argument;
                continue;
            }
            switch (node.Op)
            {
                case "VariableV2" or "Variable":
                    replaced[name] = Constant(node, node, _keys.GetValueOrDefault(name) ?? name);
                    continue;
                case "ReadVariableOp" when node.Input.Count > 0 && _byName.TryGetValue(ParseInput(node.Input[0]).Node, out var handle) && handle.Op == "VarHandleOp":
                    replaced[name] = Constant(node, handle, _keys.GetValueOrDefault(handle.Name) ?? SharedName(handle));
                    continue;
                case "VarHandleOp":
                    throw new MirException($"'{_name}': node '{consumer?.Name ?? name}' ({consumer?.Op ?? node.Op}) uses the resource variable '{name}' other than through a ReadVariableOp: mopt cannot freeze it");
            }
            if (WritesState(node.Op))
                throw new MirException($"'{_name}': the outputs need node '{name}' ({node.Op}), which writes a variable or a checkpoint: a frozen graph keeps no training or saver node (check --tf-outputs)");
            foreach (var s in node.Input) work.Push((ParseInput(s).Node, node, s));
        }

        var frozen = new GraphDef { Versions = _graph.Versions, Version = _graph.Version, Library = _graph.Library, DebugInfo = _graph.DebugInfo };
        foreach (var n in _graph.Node)
            if (keep.Contains(n.Name)) frozen.Node.Add(replaced.GetValueOrDefault(n.Name) ?? n);
        return frozen;
    }

    private static string SharedName(NodeDef handle) =>
        handle.Attr.TryGetValue("shared_name", out var s) && s.ValueCase == AttrValue.ValueOneofCase.S && !s.S.IsEmpty ? s.S.ToStringUtf8() : handle.Name;

    /// <summary>
    /// Which checkpoint key the graph's saver restores each variable from: an <c>Assign</c> (or <c>AssignVariableOp</c>)
    /// of <c>RestoreV2:i</c> (through Identities) into a variable means the key is the i-th of RestoreV2's tensor names.
    /// </summary>
    private void SaverKeys()
    {
        foreach (var n in _graph.Node)
        {
            if (n.Op is not ("Assign" or "AssignVariableOp") || n.Input.Count < 2) continue;
            var value = ParseInput(n.Input[1]);
            while (_byName.TryGetValue(value.Node, out var v) && v.Op == "Identity" && v.Input.Count > 0) value = ParseInput(v.Input[0]);
            if (!_byName.TryGetValue(value.Node, out var restore) || restore.Op != "RestoreV2" || restore.Input.Count < 3) continue;
            var names = StringsOf(ParseInput(restore.Input[1]).Node);
            var slices = StringsOf(ParseInput(restore.Input[2]).Node);
            if (names is null || value.Index >= names.Count) continue;
            var variable = ParseInput(n.Input[0]).Node;
            if (slices is not null && value.Index < slices.Count && slices[value.Index].Length > 0)
                throw new MirException($"'{_name}': variable '{variable}' is restored from a slice ('{slices[value.Index]}' of '{names[value.Index]}'): partitioned variables cannot be frozen by mopt");
            _keys.TryAdd(variable, names[value.Index]);
        }
    }

    /// <summary>The strings of a string Const (RestoreV2's tensor names), or null for anything else.</summary>
    private List<string>? StringsOf(string node) =>
        _byName.TryGetValue(node, out var c) && c.Op == "Const" && c.Attr.TryGetValue("value", out var v) && v.Tensor is { } t && t.Dtype == DataType.DtString
            ? t.StringVal.Select(s => s.ToStringUtf8()).ToList() : null;

    /// <summary>The Const that replaces <paramref name="node"/>: variable <paramref name="variable"/>'s tensor <paramref name="key"/>, dtype and shape checked.</summary>
    private NodeDef Constant(NodeDef node, NodeDef variable, string key)
    {
        string ckpt = $"checkpoint '{_bundle.Prefix}'";
        if (!_bundle.Entries.TryGetValue(key, out var entry))
            throw new MirException($"{ckpt} has no tensor '{key}' (needed by {variable.Op} node '{variable.Name}')");
        var dtype = entry.Dtype;
        if (variable.Attr.TryGetValue("dtype", out var dt) && dt.ValueCase == AttrValue.ValueOneofCase.Type && dt.Type != dtype)
            throw new MirException($"{ckpt}: tensor '{key}' is {TfDataTypes.NameOf((int)dtype)}, but {variable.Op} node '{variable.Name}' holds {TfDataTypes.NameOf((int)dt.Type)}");
        var shape = entry.Shape ?? new TensorShapeProto();
        if (variable.Attr.TryGetValue("shape", out var sv) && sv.Shape is { UnknownRank: false } declared
            && (declared.Dim.Count != shape.Dim.Count || declared.Dim.Zip(shape.Dim).Any(p => p.First.Size >= 0 && p.First.Size != p.Second.Size)))
            throw new MirException($"{ckpt}: tensor '{key}' has shape {ShapeText(shape)}, but {variable.Op} node '{variable.Name}' has shape {ShapeText(declared)}");
        // Two reads of one resource variable share the bytes.
        if (!_read.TryGetValue(key, out var bytes)) _read[key] = bytes = _bundle.Read(key);
        _frozenKeys[node.Name] = key;
        var constant = new NodeDef { Name = node.Name, Op = "Const", Device = node.Device };
        constant.Attr["dtype"] = new AttrValue { Type = dtype };
        // The checkpoint's bytes as they are, without a copy: the importer puts them in a resource blob.
        constant.Attr["value"] = new AttrValue { Tensor = new TensorProto { Dtype = dtype, TensorShape = shape, TensorContent = UnsafeByteOperations.UnsafeWrap(bytes) } };
        return constant;
    }

    private static string ShapeText(TensorShapeProto s) => "[" + string.Join(",", s.Dim.Select(d => d.Size < 0 ? "?" : d.Size.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
}
