using System.Globalization;
using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-strip-unused-nodes='type=float shape=1,299,299,3'</c>, the Graph Transform Tool's <c>strip_unused_nodes</c>
/// (tensorflow/tools/graph_transforms/strip_unused_nodes.cc): keeps only the nodes the outputs need, and gives the
/// graph's inputs the dtype and shape asked for.
/// <code>
/// Before: @main(%arg0: tensor&lt;*xf32&gt; {mo.name = "Reshape_1", tf.attrs = {dtype = f32, shape}})   ; cut with --tf-inputs=Reshape_1
///         %u = "tf.Relu"(%arg0) loc("unused")                                                ; no output needs it
/// After (shape=1,49,10,1):
///         @main(%arg0: tensor&lt;1x49x10x1xf32&gt; {mo.name = "Reshape_1", tf.attrs = {dtype = f32, shape = array&lt;i64: 1, 49, 10, 1&gt;}})
/// </code>
/// Needed: the producers of the returned values and, transitively, of every data operand and every <c>^control</c>
/// input (by name) of a needed node; every other op goes, whatever its effects (as transform_graph keeps only the
/// required nodes), and so do the inputs nothing needs. The outputs are the function's results (transform_graph's
/// <c>--outputs</c>, mopt-opt's <c>--tf-outputs</c>); the inputs are its arguments (<c>--tf-inputs</c> cuts the graph
/// at import, which transform_graph does here).
/// Types and shapes: <c>type</c> (a TensorFlow dtype name, <c>float</c>, <c>int32</c>, ...) and <c>shape</c>
/// (<c>1,299,299,3</c>; <c>-1</c> an unknown dim, empty a scalar) apply to every input; <c>name</c> with
/// <c>type-for-name</c> / <c>shape-for-name</c> (lists in the same order; shapes separated by ';') to one input. An
/// input gets a type or shape only when one is given: transform_graph gives a cut node float and a scalar shape by
/// default and leaves an input that was a Placeholder as it was; mopt leaves what is not given unchanged and also
/// gives a Placeholder what is given (so <c>shape=</c> also sets a Placeholder's batch size), except that <c>type</c>
/// and <c>shape</c> leave an input of a dtype the IR has no element type for (a string Placeholder feeding an audio or
/// JPEG front end) as it is unless it is named. The argument's type
/// and its <c>tf.attrs</c> (written back as the Placeholder's <c>dtype</c> and <c>shape</c>) change together.
/// </summary>
public sealed class TfStripUnusedNodes : Pass
{
    private readonly PassOption<string> _type = new("type", "the dtype every input gets (float, int32, ...)", "");
    private readonly PassOption<string> _shape = new("shape", "the shape every input gets: 1,299,299,3 (-1 an unknown dim)", "");
    private readonly PassOption<string> _names = new("name", "inputs given their own type or shape, comma-separated", "");
    private readonly PassOption<string> _typeForName = new("type-for-name", "the dtype of each input in 'name', comma-separated", "");
    private readonly PassOption<string> _shapeForName = new("shape-for-name", "the shape of each input in 'name', ';'-separated", "");

    public override string Name => "tf-strip-unused-nodes";
    public override string Summary => "TensorFlow: keep only the nodes the outputs need; give the inputs a dtype and shape (GTT strip_unused_nodes)";
    public override IReadOnlyList<PassOption> Options => [_type, _shape, _names, _typeForName, _shapeForName];

    /// <summary>Sets the options from transform_graph's parameters (<c>name</c> and its lists may repeat).</summary>
    public TfStripUnusedNodes Configure(GttTransform t)
    {
        if (t.One("type") is { } type) { Dtype(type); _type.Parse(type); }
        if (t.One("shape") is { } shape) { Shape(shape); _shape.Parse(shape); }
        var names = t.All("name");
        if (names.Count > 0) _names.Parse(string.Join(',', names));
        var types = t.All("type_for_name");
        var shapes = t.All("shape_for_name");
        if (types.Count > 0 && types.Count != names.Count || shapes.Count > 0 && shapes.Count != names.Count || names.Count > 0 && types.Count + shapes.Count == 0)
            throw new PipelineException("--tf-transforms: strip_unused_nodes needs a 'type_for_name' or 'shape_for_name' for every 'name', e.g. " +
                "strip_unused_nodes(name=foo, shape_for_name=\"2,2,1\", name=bar, shape_for_name=\"1\")");
        if (types.Count > 0) _typeForName.Parse(string.Join(',', types));
        if (shapes.Count > 0) _shapeForName.Parse(string.Join(';', shapes));
        PerNameSettings();
        return this;
    }

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var func = module.MainFunction;
        var perName = PerNameSettings();
        long removed = Strip(func, context);
        if (removed > 0) context.Count("nodes removed", removed);

        var defaultType = _type.Value.Length > 0 ? Dtype(_type.Value) : null;
        var defaultShape = _shape.IsSet ? Shape(_shape.Value) : null;
        for (int i = 0; i < func.Arguments.Count; i++)
        {
            var name = func.ArgName(i) ?? "";
            perName.TryGetValue(name, out var own);
            var arg = func.Arguments[i];
            var old = arg.Type as TensorType;
            bool named = perName.ContainsKey(name);
            // The defaults are for numeric inputs: a string input (an audio or JPEG front end) keeps its type unless named.
            if (old is null && !named)
            {
                if (defaultType is not null || defaultShape is not null) context.Log($"input '{name}' ({arg.Type}) is not numeric: left as it is");
                continue;
            }
            var element = own.Type ?? defaultType;
            var shape = own.Shape ?? defaultShape;
            if (element is null && shape is null) continue;
            element ??= old?.Element ?? throw new MirException($"tf-strip-unused-nodes: input '{name}' has type {arg.Type}: give it a type_for_name to set its shape");
            var dims = shape ?? old?.Shape?.ToArray();
            var type = new TensorType(element, dims);
            if (arg.Type == type) continue;
            arg.Type = type;
            SetPlaceholderAttrs(func, i, element, dims);
            context.Count("inputs typed");
            context.Log($"input '{name}' is now {type}");
        }
        func.UpdateType();
    }

    /// <summary>Erases what the outputs do not need (data and control inputs followed); returns how many nodes went.</summary>
    private static long Strip(FuncOp func, PassContext context)
    {
        var byName = new Dictionary<string, Operation>(StringComparer.Ordinal);
        foreach (var op in func.Body.Operations)
            if (TfGraph.NodeName(op) is { } n) byName.TryAdd(n, op);
        var argByName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < func.Arguments.Count; i++)
            if (func.ArgName(i) is { } n) argByName.TryAdd(n, i);

        var ret = func.Return!;
        var needed = new HashSet<Operation> { ret };
        var neededArgs = new HashSet<int>();
        var work = new Stack<Value>(ret.Operands);
        var names = new Stack<string>();
        while (work.Count > 0 || names.Count > 0)
        {
            if (names.Count > 0)
            {
                var name = names.Pop();
                if (byName.TryGetValue(name, out var byNameOp)) Visit(byNameOp);
                else if (argByName.TryGetValue(name, out var a)) NeedArg(a);
                continue;
            }
            switch (work.Pop())
            {
                case OpResult { Owner: var producer }: Visit(producer); break;
                case BlockArgument arg: NeedArg(arg.Index); break;
            }
        }

        void Visit(Operation op)
        {
            if (!needed.Add(op)) return;
            foreach (var inner in op.Walk())
                foreach (var v in inner.Operands) work.Push(v);
            foreach (var c in TfGraph.ControlInputs(op)) names.Push(c);
        }

        // A Placeholder's control inputs are needed with it.
        void NeedArg(int index)
        {
            if (!neededArgs.Add(index)) return;
            if (func.ArgAttrs(index).Get(TfGraph.ControlInputsAttr) is ArrayAttr ctrl)
                foreach (var n in ctrl.Elements.OfType<StringAttr>()) names.Push(n.Value);
        }

        foreach (var op in func.Body.Operations.Where(o => !needed.Contains(o)))
            context.Log($"removed {op.Name} {TfGraph.NodeName(op) ?? "(unnamed)"}: no output needs it");
        long removed = func.Body.EraseAll(op => !needed.Contains(op));
        for (int i = func.Arguments.Count - 1; i >= 0; i--)
        {
            if (neededArgs.Contains(i) || func.Arguments[i].HasUses) continue;
            context.Log($"removed input '{func.ArgName(i)}': no output needs it");
            func.Body.RemoveArgument(i);
            func.RemoveArgAttrsAt(i);
            removed++;
        }
        return removed;
    }

    /// <summary>The argument's <c>tf.attrs</c> (its Placeholder's attributes) with the new dtype and shape.</summary>
    private static void SetPlaceholderAttrs(FuncOp func, int index, ElementType element, long[]? dims)
    {
        var attrs = func.ArgAttrs(index);
        var old = attrs.Get(TfGraph.ArgAttrs) as DictionaryAttr ?? DictionaryAttr.Empty;
        var dtype = new NamedAttr("dtype", new TypeAttr(TfDataTypes.TypeOf(TfDataTypes.CodeOf(element)!.Value)));
        var shape = new NamedAttr("shape", dims is null ? UnitAttr.Instance : DenseArrayAttr.OfInts(ElementType.I64, dims));
        // _output_shapes and the like describe the old shape: they go.
        var entries = old.Entries.Where(e => e.Name is not ("dtype" or "shape" or "_output_shapes")).Append(dtype).Append(shape).OrderBy(e => e.Name, StringComparer.Ordinal);
        var updated = DictionaryAttr.From(entries);
        func.SetArgAttrs(index, DictionaryAttr.From(attrs.Entries.Where(e => e.Name != TfGraph.ArgAttrs).Append(new NamedAttr(TfGraph.ArgAttrs, updated)).OrderBy(e => e.Name, StringComparer.Ordinal)));
    }

    private Dictionary<string, (ElementType? Type, long[]? Shape)> PerNameSettings()
    {
        var names = Split(_names.Value, ',');
        var types = Split(_typeForName.Value, ',');
        var shapes = _shapeForName.IsSet ? _shapeForName.Value.Split(';').Select(s => s.Trim()).ToList() : [];
        if (types.Count > 0 && types.Count != names.Count || shapes.Count > 0 && shapes.Count != names.Count)
            throw new PipelineException($"tf-strip-unused-nodes: 'name' lists {names.Count} inputs, but 'type-for-name' has {types.Count} and 'shape-for-name' {shapes.Count}");
        var result = new Dictionary<string, (ElementType?, long[]?)>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
            result[names[i]] = (types.Count > 0 ? Dtype(types[i]) : null, shapes.Count > 0 ? Shape(shapes[i]) : null);
        return result;
    }

    private static List<string> Split(string text, char separator) =>
        text.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>A dtype by TensorFlow's name (<c>float</c>, <c>DT_FLOAT</c>, <c>int32</c>), as an IR element type.</summary>
    public static ElementType Dtype(string name)
    {
        var bare = name.StartsWith("DT_", StringComparison.OrdinalIgnoreCase) ? name[3..] : name;
        var code = TfDataTypes.CodeOf(new OpaqueType("!tf." + bare.ToLowerInvariant()));
        if (code is null) throw new PipelineException($"tf-strip-unused-nodes: '{name}' is not a TensorFlow dtype (float, int32, uint8, ...)");
        return TfDataTypes.ElementOf(code.Value)
            ?? throw new PipelineException($"tf-strip-unused-nodes: inputs of dtype '{name}' are not supported (a numeric dtype is needed)");
    }

    /// <summary><c>1,299,299,3</c> as dims (-1 for an unknown one); the empty string is a scalar.</summary>
    public static long[] Shape(string text)
    {
        if (text.Trim().Length == 0) return [];
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var dims = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!long.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out dims[i]) || dims[i] < -1)
                throw new PipelineException($"tf-strip-unused-nodes: shape '{text}' is not a list of dims like 1,299,299,3 (-1 for an unknown dim)");
        return dims;
    }
}
