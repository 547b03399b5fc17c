using Mopt.Dialects.Mo;
using Mopt.Dialects.Paddle;
using Mopt.Ir;
using Mopt.Paddle.Proto;

namespace Mopt.Frontend.Paddle;

/// <summary>
/// A Paddle inference model → module (docs/formats/paddle.md). Block 0's ops become <c>paddle.&lt;type&gt;</c> in program
/// order: each input slot's arguments as operands (slots in the file's order, which Paddle sorts by name), each output
/// slot's as fresh results (an op writing a var in place too), <see cref="PaddleAttributes"/> for the attributes. The
/// <c>feed</c> ops become the function's arguments and the <c>fetch</c> ops its results, both in <c>col</c> order; a
/// persistable var is an <c>onnx.Constant</c> of its saved bytes; the <c>XShape</c> outputs (the input's shape, kept by
/// Paddle for training) are dropped.
/// </summary>
public sealed class PaddleImporter
{
    /// <summary>A var's type when the program does not give one.</summary>
    public static readonly TensorType Unknown = TensorType.Unranked(ElementType.F32);

    /// <summary>Output slots that only training reads: not imported, re-made by the writer.</summary>
    private const string XShapeSlot = "XShape";

    private readonly PaddleModelFiles _files;
    private readonly string _name;
    private readonly MirModule _module = MirModule.Create();
    private readonly Dictionary<string, VarDesc> _vars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Value> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Value> _parameters = new(StringComparer.Ordinal);

    private PaddleImporter(PaddleModelFiles files)
    {
        _files = files;
        _name = files.ProgramPath;
    }

    /// <summary>Reads and imports the model at <paramref name="path"/> (a folder, <c>__model__</c>, <c>model</c> or <c>.pdmodel</c>).</summary>
    public static MirModule ImportPath(string path) => Import(PaddleModelFiles.Read(path));

    public static MirModule Import(PaddleModelFiles files) => new PaddleImporter(files).Run();

    private MirModule Run()
    {
        var program = _files.Program;
        var m = _module.Op;
        m.SetAttr("mo.source", new StringAttr("paddle"));
        if (program.Version is { } version) m.SetAttr("paddle.version", IntegerAttr.I64(version.Version_));
        if (program.OpVersionMap is { } map)
            m.SetAttr("paddle.op_version_map", DictionaryAttr.From(map.Pair.Select(p => new NamedAttr(p.OpName, new IntegerAttr(p.OpVersion?.Version ?? 0, ElementType.I32)))));
        var block = program.Blocks[0];
        foreach (var v in block.Vars) _vars.TryAdd(v.Name, v);

        var feeds = Sorted(block.Ops.Where(o => o.Type == "feed"), "feed");
        var fetches = Sorted(block.Ops.Where(o => o.Type == "fetch"), "fetch");
        var inputs = feeds.Select(f => Single(f, f.Outputs, "Out")).ToList();
        var func = _module.AddFunction("main", inputs.Select(i => (MirType)TypeOf(i)).ToList(), []);
        for (int i = 0; i < inputs.Count; i++)
        {
            func.SetArgAttrs(i, DictionaryAttr.From([new NamedAttr(MoDialect.NameAttr, new StringAttr(inputs[i])), .. FeedFetchAttrs(feeds[i], "paddle.feed")]));
            _current[inputs[i]] = func.Arguments[i];
        }

        // The parameters first, in the order the program first reads them (as an ONNX file's initializers come first).
        var builder = OpBuilder.AtEnd(func.Body);
        foreach (var op in block.Ops)
            foreach (var slot in op.Inputs)
                foreach (var argument in slot.Arguments)
                    if (!_parameters.ContainsKey(argument) && _files.Parameters.TryGetValue(argument, out var record))
                        _parameters[argument] = builder.ResourceConstant(_module, argument, record.Type, record.Data, Location.Named(argument));
        int index = 0;
        foreach (var op in block.Ops)
        {
            index++;
            if (op.Type is "feed" or "fetch") continue;
            Import(op, index, builder);
        }

        var results = new List<Value>(fetches.Count);
        foreach (var fetch in fetches)
        {
            var name = Single(fetch, fetch.Inputs, "X");
            results.Add(Read(name) ?? throw new MirException($"{_name}: fetch (col {Col(fetch)}) reads '{name}', which no op writes"));
        }
        builder.Return(results);
        func.UpdateType();
        for (int i = 0; i < fetches.Count; i++)
            func.SetResultAttrs(i, DictionaryAttr.From([new NamedAttr(MoDialect.NameAttr, new StringAttr(Single(fetches[i], fetches[i].Inputs, "X"))), .. FeedFetchAttrs(fetches[i], "paddle.fetch")]));
        Verifier.Verify(_module, _name);
        return _module;
    }

    private void Import(OpDesc op, int index, OpBuilder builder)
    {
        var what = $"{_name}: op {index} ({op.Type}{(MainOutput(op) is { } o ? $" -> '{o}'" : "")})";
        var operands = new List<Value>();
        var inputSlots = new List<NamedAttr>(op.Inputs.Count);
        // Slots in name order, as Paddle itself writes them (a std::map): the dictionary below lists them in that order too.
        foreach (var slot in BySlot(op.Inputs, what))
        {
            foreach (var argument in slot.Arguments)
            {
                operands.Add(Read(argument) ?? throw new MirException($"{what}: input {slot.Parameter} reads '{argument}', which no op before it writes, no feed gives and no parameter holds"));
            }
            inputSlots.Add(new NamedAttr(slot.Parameter, new IntegerAttr(slot.Arguments.Count, ElementType.I32)));
        }
        var outputSlots = new List<NamedAttr>(op.Outputs.Count);
        var outputNames = new List<string>();
        var withoutLod = new List<string>();
        foreach (var slot in BySlot(op.Outputs, what))
        {
            if (slot.Parameter == XShapeSlot) continue;
            outputNames.AddRange(slot.Arguments);
            outputSlots.Add(new NamedAttr(slot.Parameter, new IntegerAttr(slot.Arguments.Count, ElementType.I32)));
            if (slot.Arguments.Count > 0 && slot.Arguments.All(WithoutLodLevel)) withoutLod.Add(slot.Parameter);
        }
        var attrs = PaddleAttributes.Of(op, what);
        attrs.Add(new NamedAttr(PaddleDialect.InputsAttr, new DictionaryAttr(inputSlots.ToValueList())));
        attrs.Add(new NamedAttr(PaddleDialect.OutputsAttr, new DictionaryAttr(outputSlots.ToValueList())));
        attrs.Add(new NamedAttr(MoDialect.OutputsAttr, ArrayAttr.OfStrings(outputNames)));
        if (withoutLod.Count > 0) attrs.Add(new NamedAttr(PaddleDialect.OutputsWithoutLodAttr, ArrayAttr.OfStrings(withoutLod)));
        if (op.HasIsTarget) attrs.Add(new NamedAttr("paddle.is_target", op.IsTarget ? BoolAttr.True : BoolAttr.False));
        var location = MainOutput(op) is { } main ? Location.Named(main) : null;
        var created = builder.Create(PaddleDialect.Name + "." + op.Type, operands, outputNames.Select(n => (MirType)TypeOf(n)).ToList(), attrs, location);
        for (int i = 0; i < outputNames.Count; i++) _current[outputNames[i]] = created.Results[i];
    }

    /// <summary>The value var <paramref name="name"/> holds now: what the last op that wrote it made, a feed, or its parameter.</summary>
    private Value? Read(string name) => _current.TryGetValue(name, out var v) ? v : _parameters.GetValueOrDefault(name);

    /// <summary>An activation var whose LoD level Paddle never set (its op's InferShape shares no LoD to it, as batch_norm's SavedMean).</summary>
    private bool WithoutLodLevel(string var) =>
        _vars.TryGetValue(var, out var desc) && !desc.Persistable && desc.Type?.LodTensor is { HasLodLevel: false };

    private TensorType TypeOf(string var)
    {
        if (!_vars.TryGetValue(var, out var desc) || desc.Type?.LodTensor?.Tensor is not { } tensor) return Unknown;
        var element = PaddleDataTypes.Element((int)tensor.DataType) ?? ElementType.F32;
        return new TensorType(element, tensor.Dims.Select(d => d < 0 ? TensorType.Dynamic : d).ToArray());
    }

    /// <summary>The var that names the op: its Out, Output or Y (batch_norm's other outputs are its statistics), else its first output.</summary>
    private static string? MainOutput(OpDesc op)
    {
        foreach (var slot in op.Outputs)
            if (slot.Parameter is "Out" or "Output" or "Y" && slot.Arguments.Count > 0) return slot.Arguments[0];
        return op.Outputs.Where(s => s.Parameter != XShapeSlot).SelectMany(s => s.Arguments).FirstOrDefault();
    }

    private static List<OpDesc.Types.Var> BySlot(IEnumerable<OpDesc.Types.Var> slots, string what)
    {
        var sorted = slots.OrderBy(s => s.Parameter, StringComparer.Ordinal).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Parameter == sorted[i - 1].Parameter) throw new MirException($"{what}: slot {sorted[i].Parameter} is listed twice");
        return sorted;
    }

    /// <summary>The one argument of slot <paramref name="slot"/> (a feed's Out, a fetch's X).</summary>
    private string Single(OpDesc op, IEnumerable<OpDesc.Types.Var> slots, string slot)
    {
        var args = slots.Where(s => s.Parameter == slot).SelectMany(s => s.Arguments).ToList();
        if (args.Count != 1) throw new MirException($"{_name}: {op.Type} (col {Col(op)}) has {args.Count} '{slot}' arguments; Paddle writes one");
        return args[0];
    }

    /// <summary>A feed or fetch op's attributes other than col (op_role, op_device, ...), kept for the writer: none when it has none.</summary>
    private List<NamedAttr> FeedFetchAttrs(OpDesc op, string name)
    {
        var attrs = PaddleAttributes.Of(op, $"{_name}: {op.Type} (col {Col(op)})");
        attrs.RemoveAll(a => a.Name == "col");
        return attrs.Count == 0 ? [] : [new NamedAttr(name, DictionaryAttr.From(attrs))];
    }

    private static long Col(OpDesc op) => op.Attrs.FirstOrDefault(a => a.Name == "col") is { } col ? col.I : -1;

    /// <summary>The feed or fetch ops by <c>col</c>, which must number them 0, 1, ... once each.</summary>
    private List<OpDesc> Sorted(IEnumerable<OpDesc> ops, string kind)
    {
        var list = ops.OrderBy(Col).ToList();
        for (int i = 0; i < list.Count; i++)
            if (Col(list[i]) != i)
                throw new MirException($"{_name}: the {kind} ops' col attributes are {string.Join(", ", list.Select(Col))}; Paddle numbers them 0..{list.Count - 1}");
        return list;
    }
}
