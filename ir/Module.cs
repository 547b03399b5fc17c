namespace Mopt.Ir;

/// <summary>A <c>builtin.module</c> with its functions and the resource blobs its constants point at.</summary>
public sealed class MirModule
{
    public const string ModuleOpName = "builtin.module";

    public MirModule(Operation op, ResourceTable resources)
    {
        if (op.Name != ModuleOpName || op.RegionCount != 1 || op.Regions[0].Blocks.Count != 1)
            throw new ArgumentException("a module is a builtin.module operation with one region of one block");
        Op = op;
        Resources = resources;
    }

    /// <summary>
    /// A deep copy (operations, regions, arguments, attributes; blobs shared, since they are immutable bytes), and in
    /// <paramref name="map"/> each original value's copy, as MLIR's clone with an IRMapping.
    /// </summary>
    public MirModule Clone(Dictionary<Value, Value> map)
    {
        var resources = new ResourceTable();
        foreach (var (key, blob) in Resources.Blobs) resources.Set(key, blob);
        resources.Foreign.AddRange(Resources.Foreign);
        return new MirModule(CloneOp(Op, map), resources);
    }

    private static Operation CloneOp(Operation op, Dictionary<Value, Value> map)
    {
        var operands = op.Operands.Select(v => map.TryGetValue(v, out var m) ? m
            : throw new InvalidOperationException($"{op.Name} at {op.Location} reads a value defined after it"));
        var copy = new Operation(op.Name, operands.ToList(), op.Results.Select(r => r.Type), op.AttributeSpan.ToArray(), op.Location);
        for (int i = 0; i < op.Results.Count; i++) map[op.Results[i]] = copy.Results[i];
        foreach (var region in op.Regions)
        {
            var newRegion = copy.AddRegion();
            foreach (var block in region.Blocks)
            {
                var newBlock = newRegion.AddBlock();
                newBlock.Label = block.Label;
                foreach (var arg in block.Arguments) map[arg] = newBlock.AddArgument(arg.Type, arg.Location);
                foreach (var inner in block.Operations) newBlock.Append(CloneOp(inner, map));
            }
        }
        return copy;
    }

    /// <summary>An empty module, optionally named (<c>module @name</c>).</summary>
    public static MirModule Create(string? name = null)
    {
        var op = new Operation(ModuleOpName, [], []);
        op.AddRegion().AddBlock();
        if (name is not null) op.SetAttr("sym_name", new StringAttr(name));
        return new MirModule(op, new ResourceTable());
    }

    public Operation Op { get; }
    public ResourceTable Resources { get; }
    public Block Body => Op.Regions[0].Blocks[0];

    public string? Name
    {
        get => Op.GetString("sym_name");
        set { if (value is null) Op.RemoveAttr("sym_name"); else Op.SetAttr("sym_name", new StringAttr(value)); }
    }

    public IEnumerable<FuncOp> Functions => Body.Operations.Where(o => o.Name == FuncOp.OpName).Select(o => new FuncOp(o));

    public FuncOp? FindFunction(string name) => Functions.Cast<FuncOp?>().FirstOrDefault(f => f!.Value.Name == name);

    /// <summary><c>@main</c>, or the only function.</summary>
    public FuncOp MainFunction =>
        FindFunction("main") ?? (Functions.Count() == 1 ? Functions.First() : throw new InvalidOperationException("the module has no @main function"));

    /// <summary>Every <c>func.func</c> in the module, outermost first as a walk meets them: for the passes that work function by function.</summary>
    public List<Operation> FunctionOps()
    {
        var found = new List<Operation>();
        // A function's body holds no function (func.func lives in a symbol table: a module), so it is not walked: only
        // the ops around the functions are (asked by every pass that works block by block).
        Op.AddNested(found, static o => o.Name == FuncOp.OpName, static o => o.Name != FuncOp.OpName);
        return found;
    }

    /// <summary>The blocks of every function's regions, functions in <see cref="FunctionOps"/>' order: what a pass that works block by block walks.</summary>
    public List<Block> FunctionBlocks()
    {
        var blocks = new List<Block>();
        foreach (var func in FunctionOps())
            for (int r = 0; r < func.RegionCount; r++) blocks.AddRange(func.Regions[r].Blocks);
        return blocks;
    }

    /// <summary>Whether an operation inside the module's functions (not a function op) satisfies <paramref name="test"/>.</summary>
    public bool AnyOperation(Func<Operation, bool> test) => Op.AnyNested(o => o.Name != FuncOp.OpName && test(o));

    /// <summary>
    /// Every operation inside the module's functions (not the module and function ops themselves), outermost first, as
    /// they are when asked (a list: changing the module afterwards does not change it). One walk by index
    /// (<see cref="Operation.AddNested(List{Operation}, Func{Operation, bool})"/>), not an iterator per operation.
    /// </summary>
    public IReadOnlyList<Operation> AllOperations()
    {
        var ops = new List<Operation>();
        Op.AddNested(ops, static o => o.Name != FuncOp.OpName);
        return ops;
    }

    /// <summary>Every resource key a <c>dense_resource</c> anywhere in the module points at.</summary>
    public HashSet<string> ReferencedResourceKeys()
    {
        // Sized for every blob at once: most are referenced, and growing the set rehashes every key at each doubling.
        var used = new HashSet<string>(Resources.Count, StringComparer.Ordinal);
        AddResourceKeys(Op, used);
        return used;
    }

    // A recursive walk by index: this runs once per rewrite pass, and Walk's iterators cost one per operation.
    private static void AddResourceKeys(Operation op, HashSet<string> keys)
    {
        foreach (var attribute in op.AttributeSpan) attribute.Value.AddResourceKeysTo(keys);
        for (int r = 0; r < op.RegionCount; r++)
        {
            var blocks = op.Regions[r].Blocks;
            for (int b = 0; b < blocks.Count; b++)
            {
                var ops = blocks[b].Operations;
                for (int i = 0; i < ops.Count; i++) AddResourceKeys(ops[i], keys);
            }
        }
    }

    /// <summary>Removes the blobs among <paramref name="candidates"/> (every blob when null) that nothing points at; returns them.</summary>
    public List<KeyValuePair<string, ResourceBlob>> RemoveUnreferencedBlobs(IEnumerable<string>? candidates = null)
    {
        var keys = (candidates ?? Resources.Blobs.Select(b => b.Key)).ToList();
        var removed = new List<KeyValuePair<string, ResourceBlob>>();
        if (keys.Count == 0) return removed;
        var used = ReferencedResourceKeys();
        var doomed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
            if (!used.Contains(key) && Resources.Get(key) is { } blob && doomed.Add(key)) removed.Add(new(key, blob));
        Resources.RemoveAll(doomed);
        return removed;
    }

    /// <summary>Adds <c>func.func @name</c> with arguments and results of the given types and an empty body.</summary>
    public FuncOp AddFunction(string name, IReadOnlyList<MirType> argumentTypes, IReadOnlyList<MirType> resultTypes)
    {
        var op = new Operation(FuncOp.OpName, [], [], [
            new NamedAttr("sym_name", new StringAttr(name)),
            new NamedAttr("function_type", new TypeAttr(new FunctionType(argumentTypes, resultTypes))),
        ]);
        var body = op.AddRegion().AddBlock();
        foreach (var t in argumentTypes) body.AddArgument(t);
        Body.Append(op);
        return new FuncOp(op);
    }
}

/// <summary>A view of a <c>func.func</c> operation: its name, signature, per-argument and per-result attributes, body.</summary>
public readonly record struct FuncOp(Operation Op)
{
    public const string OpName = "func.func";
    public const string ReturnOpName = "func.return";

    public string Name => Op.GetString("sym_name") ?? "";
    public FunctionType Type => (Op.GetAttr<TypeAttr>("function_type")?.Type as FunctionType) ?? new FunctionType([], []);
    public Block Body => Op.Regions[0].Blocks[0];
    public IReadOnlyList<BlockArgument> Arguments => Body.Arguments;

    /// <summary>The function's <c>return</c>; a well-formed function ends with one.</summary>
    public Operation? Return => Body.Operations.Count > 0 && Body.Operations[^1].Name == ReturnOpName ? Body.Operations[^1] : null;

    public DictionaryAttr ArgAttrs(int index) => AttrsAt("arg_attrs", index);
    public DictionaryAttr ResultAttrs(int index) => AttrsAt("res_attrs", index);

    public void SetArgAttrs(int index, DictionaryAttr attrs) => SetAttrsAt("arg_attrs", index, attrs, Arguments.Count);
    public void SetResultAttrs(int index, DictionaryAttr attrs) => SetAttrsAt("res_attrs", index, attrs, Type.Results.Count);

    /// <summary>The <c>mo.name</c> of argument <paramref name="index"/>: the source framework's input name.</summary>
    public string? ArgName(int index) => (ArgAttrs(index).Get("mo.name") as StringAttr)?.Value;
    public string? ResultName(int index) => (ResultAttrs(index).Get("mo.name") as StringAttr)?.Value;

    /// <summary>Recomputes <c>function_type</c> from the body's arguments and its return's operands.</summary>
    public void UpdateType()
    {
        // Loops, not LINQ: importers and lowerings ask this of every function they change.
        MirType[] results;
        if (Return is { } ret)
        {
            results = new MirType[ret.OperandCount];
            for (int i = 0; i < results.Length; i++) results[i] = ret.GetOperand(i).Type;
        }
        else results = [.. Type.Results];
        var arguments = Arguments;
        var argumentTypes = new MirType[arguments.Count];
        for (int i = 0; i < argumentTypes.Length; i++) argumentTypes[i] = arguments[i].Type;
        Op.SetAttr("function_type", new TypeAttr(new FunctionType(argumentTypes, results)));
    }

    private DictionaryAttr AttrsAt(string attr, int index) =>
        Op.GetAttr<ArrayAttr>(attr) is { } arr && index < arr.Elements.Count && arr.Elements[index] is DictionaryAttr d ? d : DictionaryAttr.Empty;

    private void SetAttrsAt(string attr, int index, DictionaryAttr attrs, int count)
    {
        var list = new Attr[Math.Max(count, index + 1)];
        bool allEmpty = true;
        for (int i = 0; i < list.Length; i++)
        {
            var entry = i == index ? attrs : AttrsAt(attr, i);
            list[i] = entry;
            allEmpty &= entry.Entries.Count == 0;
        }
        if (allEmpty) Op.RemoveAttr(attr);
        else Op.SetAttr(attr, ArrayAttr.Of(list));
    }

    /// <summary>Drops per-argument attribute entries for arguments that no longer exist (after removing one).</summary>
    public void RemoveArgAttrsAt(int index)
    {
        if (Op.GetAttr<ArrayAttr>("arg_attrs") is not { } arr || index >= arr.Elements.Count) return;
        var list = arr.Elements.Where((_, i) => i != index).ToArray();
        if (list.All(a => a is DictionaryAttr { Entries.Count: 0 })) Op.RemoveAttr("arg_attrs");
        else Op.SetAttr("arg_attrs", ArrayAttr.Of(list));
    }
}
