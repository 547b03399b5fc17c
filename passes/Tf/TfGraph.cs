using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// What the tf.* passes share about a module imported from a GraphDef (docs/formats/tensorflow.md): a node's name is
/// its <c>loc("name")</c> (an argument's <c>mo.name</c>), its <c>^control</c> inputs are names in
/// <c>tf.control_inputs</c>, a constant is <c>tf.Const</c> with <c>dtype</c> and <c>value</c>.
/// </summary>
public static class TfGraph
{
    public const string ControlInputsAttr = "tf.control_inputs";
    public const string DeviceAttr = "tf.device";
    public const string ArgAttrs = "tf.attrs";

    /// <summary>A module in tf.*: imported from TensorFlow or holding tf ops.</summary>
    public static bool IsTf(MirModule module) =>
        module.Op.GetString("mo.source") == "tf" || module.AllOperations().Any(o => o.Dialect == TfDialect.Name);

    /// <summary>
    /// Whether a tf pass has a graph to work on: false for a module with no function or nothing in it (nothing to do);
    /// an error for a module of another framework (the tf passes read node names and control inputs).
    /// </summary>
    public static bool Applies(MirModule module, string pass)
    {
        if (IsTf(module)) return module.FindFunction("main") is not null;
        if (!module.Functions.Any(f => f.Body.Operations.Any(o => o.Name != FuncOp.ReturnOpName))) return false;
        throw new MirException($"{pass} applies to a TensorFlow graph (a module in tf.*, read from a .pb), not to this {module.Op.GetString("mo.source") ?? "MLIR"} module");
    }

    /// <summary>The node name the writer gives <paramref name="op"/> (its name location), or null.</summary>
    public static string? NodeName(Operation op) => op.Location is NameLoc n ? n.Name : null;

    /// <summary>The node that produces <paramref name="v"/>: an op's name or an argument's <c>mo.name</c>.</summary>
    public static string? NodeOf(Value v, FuncOp func) => v switch
    {
        OpResult r => NodeName(r.Owner),
        BlockArgument a => func.ArgName(a.Index),
        _ => null,
    };

    public static IReadOnlyList<string> ControlInputs(Operation op) =>
        op.GetAttr(ControlInputsAttr) is ArrayAttr a ? a.Elements.OfType<StringAttr>().Select(s => s.Value).ToList() : [];

    public static bool HasControlInputs(Operation op) => ControlInputs(op).Count > 0;

    public static void SetControlInputs(Operation op, IReadOnlyList<string> names)
    {
        if (names.Count == 0) op.RemoveAttr(ControlInputsAttr);
        else op.SetAttr(ControlInputsAttr, ArrayAttr.OfStrings(names));
    }

    /// <summary>The names some node reads as a <c>^control</c> input (ops and arguments).</summary>
    public static HashSet<string> ControlTargets(FuncOp func)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var op in func.Body.Operations) names.UnionWith(ControlInputs(op));
        for (int i = 0; i < func.Arguments.Count; i++)
            if (func.ArgAttrs(i).Get(ControlInputsAttr) is ArrayAttr a) names.UnionWith(a.Elements.OfType<StringAttr>().Select(s => s.Value));
        return names;
    }

    /// <summary>Points every <c>^old</c> at <c>^new</c> (a removed node's dependants wait for what replaced it); drops repeats.</summary>
    public static void RenameControlInputs(FuncOp func, IReadOnlyDictionary<string, string> renames)
    {
        if (renames.Count == 0) return;
        foreach (var op in func.Body.Operations)
        {
            var inputs = ControlInputs(op);
            if (inputs.Count == 0 || !inputs.Any(renames.ContainsKey)) continue;
            SetControlInputs(op, inputs.Select(n => renames.GetValueOrDefault(n, n)).Distinct().ToList());
        }
        for (int i = 0; i < func.Arguments.Count; i++)
        {
            var attrs = func.ArgAttrs(i);
            if (attrs.Get(ControlInputsAttr) is not ArrayAttr a) continue;
            var renamed = a.Elements.OfType<StringAttr>().Select(s => renames.GetValueOrDefault(s.Value, s.Value)).Distinct().ToList();
            func.SetArgAttrs(i, DictionaryAttr.From(attrs.Entries.Select(e => e.Name == ControlInputsAttr ? new NamedAttr(e.Name, ArrayAttr.OfStrings(renamed)) : e)));
        }
    }

    /// <summary>The ops whose results the function returns: the graph's outputs, which keep their names.</summary>
    public static HashSet<Operation> OutputNodes(FuncOp func) =>
        func.Return is { } ret ? ret.Operands.OfType<OpResult>().Select(r => r.Owner).ToHashSet() : [];

    /// <summary>The value of a <c>tf.Const</c> result (a splat expanded), or null when <paramref name="v"/> is not one or its bytes are not there.</summary>
    public static ConstantTensor? ConstValue(Value v, MirModule module) =>
        v is OpResult { Owner: { Name: TfDialect.ConstOp } c } ? ConstantTensor.TryRead(c.GetAttr("value"), module.Resources) : null;

    /// <summary>True when <paramref name="v"/> is a result of a <c>tf.</c><paramref name="opType"/> (one of them, '|'-separated).</summary>
    public static bool IsOp(Value v, string opTypes, out Operation op)
    {
        op = (v as OpResult)?.Owner!;
        return op is not null && op.Dialect == TfDialect.Name && opTypes.Split('|').Contains(op.OpType);
    }

    /// <summary>
    /// A new <c>tf.Const</c> named <paramref name="name"/>, holding the tensor as the importer would (<see cref="ValueAttr"/>).
    /// </summary>
    public static Operation CreateConst(OpBuilder builder, MirModule module, TensorType type, byte[] bytes, string name)
    {
        var code = TfDataTypes.CodeOf(type.Element) ?? throw new InvalidOperationException($"{type.Element} has no TensorFlow dtype");
        return builder.Create(TfDialect.ConstOp, [], [type],
            [new NamedAttr("dtype", new TypeAttr(TfDataTypes.TypeOf(code))), new NamedAttr("value", ValueAttr(module, type, bytes, name))],
            Location.Named(name));
    }

    /// <summary>
    /// The <c>value</c> attribute of a Const holding these bytes, as the importer reads it back: a splat when there are
    /// several elements all equal, else a blob keyed by <paramref name="name"/>.
    /// </summary>
    public static Attr ValueAttr(MirModule module, TensorType type, byte[] bytes, string name)
    {
        int size = type.Element.ByteSize;
        if (bytes.Length > size && AllEqual(bytes, size)) return new DenseElementsAttr(type, bytes[..size], true);
        return new DenseResourceAttr(type, module.Resources.Add(name, new ResourceBlob((uint)Math.Max(4, size), bytes)));
    }

    private static bool AllEqual(ReadOnlySpan<byte> bytes, int size)
    {
        var first = bytes[..size];
        for (int at = size; at < bytes.Length; at += size)
            if (!bytes.Slice(at, size).SequenceEqual(first)) return false;
        return true;
    }

    /// <summary>A node name not used yet in the function: <paramref name="wanted"/>, else with _1, _2, ...</summary>
    public static string UniqueName(FuncOp func, string wanted)
    {
        var used = func.Body.Operations.Select(NodeName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        for (int i = 0; i < func.Arguments.Count; i++) if (func.ArgName(i) is { } n) used.Add(n);
        if (!used.Contains(wanted)) return wanted;
        for (int k = 1; ; k++) if (!used.Contains($"{wanted}_{k}")) return $"{wanted}_{k}";
    }

    /// <summary>
    /// Erases the producers of <paramref name="values"/> that nothing reads any more (and then theirs): pure tf ops and
    /// Consts that are not outputs and that no <c>^control</c> input names.
    /// </summary>
    public static void EraseIfDead(IEnumerable<Value> values, FuncOp func, MirModule module)
    {
        var work = new Stack<Value>(values);
        HashSet<string>? targets = null;
        HashSet<Operation>? outputs = null;
        while (work.Count > 0)
        {
            if (work.Pop() is not OpResult { Owner: var op } || op.Parent is null || !op.IsUnused || op.Dialect != TfDialect.Name) continue;
            if (StandardRegistry.Find(op) is not { } def || !def.Traits.IsPure()) continue;
            targets ??= ControlTargets(func);
            outputs ??= OutputNodes(func);
            if (outputs.Contains(op) || NodeName(op) is { } n && targets.Contains(n)) continue;
            var inputs = op.Operands.ToList();
            var keys = op.Attributes.SelectMany(a => a.Value.ResourceKeys()).ToList();
            op.Erase();
            if (keys.Count > 0) module.RemoveUnreferencedBlobs(keys);
            foreach (var v in inputs) work.Push(v);
        }
    }

    private static DialectRegistry StandardRegistry => Mopt.Dialects.StandardDialects.Registry;

    /// <summary>A string attribute of the node, or the default.</summary>
    public static string Str(Operation op, string name, string defaultValue) => op.GetString(name) ?? defaultValue;

    /// <summary>A bool attribute of the node, or the default.</summary>
    public static bool Bool(Operation op, string name, bool defaultValue) => op.GetAttr(name) is BoolAttr b ? b.Value : defaultValue;
}
