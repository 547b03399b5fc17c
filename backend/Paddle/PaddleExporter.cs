using Mopt.Dialects.Mo;
using Mopt.Dialects.Paddle;
using Mopt.Ir;
using Mopt.Paddle.Proto;

namespace Mopt.Backend.Paddle;

/// <summary>A ProgramDesc and its parameters (name → tensor), ready to write; the parameters in sorted-name order.</summary>
public sealed record PaddleProgram(ProgramDesc Program, SortedDictionary<string, ConstantTensor> Parameters);

/// <summary>
/// A module in <c>paddle.*</c> → a Paddle inference program as Paddle 2.x's <c>save_inference_model</c> writes one
/// (docs/formats/paddle.md): the feed ops first (in reverse <c>col</c> order, as Paddle prepends them) and the fetch ops
/// last, vars declared once each (parameters persistable, without <c>lod_level</c>; activations with <c>lod_level</c> 0;
/// <c>feed</c>/<c>fetch</c> holders persistable, without a tensor), slots in name order with empty ones kept, the
/// <c>XShape</c> output the reshape-like ops declare (re-made here; the importer drops it), attributes in the AttrType
/// their form stands for. The constants the ops read are the parameters, named as their var was.
/// </summary>
public static class PaddleExporter
{
    /// <summary>Ops whose definitions declare an XShape output (the input's shape, for training).</summary>
    private static readonly HashSet<string> XShapeOps = ["reshape2", "transpose2", "squeeze2", "unsqueeze2", "flatten2", "flatten_contiguous_range"];

    public static PaddleProgram ToProgram(MirModule module, string name)
    {
        var func = module.MainFunction;
        var block = new BlockDesc { Idx = 0, ParentIdx = -1 };
        var program = new ProgramDesc();
        program.Blocks.Add(block);
        if (module.Op.GetAttr("paddle.version") is IntegerAttr version) program.Version = new Mopt.Paddle.Proto.Version { Version_ = version.Value };
        if (module.Op.GetAttr("paddle.op_version_map") is DictionaryAttr map)
        {
            program.OpVersionMap = new OpVersionMap();
            foreach (var e in map.Entries)
                program.OpVersionMap.Pair.Add(new OpVersionMap.Types.OpVersionPair { OpName = e.Name, OpVersion = new OpVersion { Version = checked((int)((IntegerAttr)e.Value).Value) } });
        }

        var names = new Dictionary<Value, string>();
        var declared = new Dictionary<string, VarDesc>(StringComparer.Ordinal);
        var parameters = new SortedDictionary<string, ConstantTensor>(StringComparer.Ordinal);
        block.Vars.Add(new VarDesc { Name = "feed", Type = new VarType { Type = VarType.Types.Type.FeedMinibatch }, Persistable = true });
        block.Vars.Add(new VarDesc { Name = "fetch", Type = new VarType { Type = VarType.Types.Type.FetchList }, Persistable = true });
        declared["feed"] = block.Vars[0];
        declared["fetch"] = block.Vars[1];

        void Declare(string var, MirType type, bool persistable, string what, bool lod = true)
        {
            if (declared.ContainsKey(var)) return;
            var desc = new VarDesc { Name = var, Type = TensorVar(type, lod: !persistable && lod, what), Persistable = persistable };
            declared[var] = desc;
            block.Vars.Add(desc);
        }

        // An output takes its name unless another var has it; it may write over one of its own op's inputs of the
        // same type (batch_norm's MeanOut is its Mean, an in-place activation), never over a parameter or value it
        // does not read: Paddle would run the op into that var (a parameter's weights overwritten after one run).
        string DeclareOutput(string wanted, MirType type, bool lod, IReadOnlySet<string> inputs, string what)
        {
            if (declared.TryGetValue(wanted, out var existing)
                && !(inputs.Contains(wanted) && type is TensorType tensor && existing.Type.LodTensor?.Tensor is { } held && held.Equals(TensorDesc(tensor, what))))
                wanted = UniqueVar(wanted, declared);
            Declare(wanted, type, persistable: false, what, lod);
            return wanted;
        }

        for (int i = func.Arguments.Count - 1; i >= 0; i--)
        {
            var arg = func.Arguments[i];
            var argName = (func.ArgAttrs(i).Get(MoDialect.NameAttr) as StringAttr)?.Value ?? $"input_{i}";
            names[arg] = argName;
            Declare(argName, arg.Type, persistable: false, $"'{name}': input {argName}");
            block.Ops.Add(Op("feed", [("X", ["feed"])], [("Out", [argName])], [Col(i), .. Extra(func.ArgAttrs(i), "paddle.feed", $"'{name}': feed {i}")]));
        }

        // Which ops write each output name: a parameter gives way to them, since outputs' names are what users fetch.
        var writers = new Dictionary<string, List<(Operation Op, Value Result)>>(StringComparer.Ordinal);
        foreach (var op in func.Body.Operations)
            if (op.GetAttr(MoDialect.OutputsAttr) is ArrayAttr outs)
                for (int i = 0; i < outs.Elements.Count && i < op.Results.Count; i++)
                    if (outs.Elements[i] is StringAttr { Value: var written })
                        (writers.TryGetValue(written, out var list) ? list : writers[written] = []).Add((op, op.Results[i]));

        int unnamed = 0;
        foreach (var op in func.Body.Operations)
        {
            if (op.Name == FuncOp.ReturnOpName) continue;
            var what = $"'{name}': {op.Name} ({op.Location.FirstName ?? "unnamed"})";
            if (op.Name == Constants.ConstantOp)
            {
                var tensor = Constants.TryGet(Constants.ValueAttribute(op), module) ?? throw new MirException($"{what}: a constant with no static shape or no bytes");
                var var = UniqueVar(op.Location.FirstName ?? $"param_{unnamed++}", declared, WrittenByOthers(op, writers));
                names[op.Result] = var;
                Declare(var, tensor.Type, persistable: true, what);
                parameters[var] = tensor;
                continue;
            }
            if (!op.Name.StartsWith(PaddleDialect.Name + ".", StringComparison.Ordinal))
                throw new MirException($"{what} is not a Paddle op: writing Paddle takes a module in paddle.* (mopt-opt lowers onnx.*, tf.* and caffe.* to it on the way)");
            block.Ops.Add(OpDescOf(op, op.Name[(PaddleDialect.Name.Length + 1)..], names, (var, type, lod, inputs) => DeclareOutput(var, type, lod, inputs, what), what, ref unnamed));
        }

        var results = func.Body.Operations[^1].Operands.ToList();
        for (int i = 0; i < results.Count; i++)
        {
            if (!names.TryGetValue(results[i], out var fetched)) throw new MirException($"'{name}': result {i} has no var");
            block.Ops.Add(Op("fetch", [("X", [fetched])], [("Out", ["fetch"])], [Col(i), .. Extra(func.ResultAttrs(i), "paddle.fetch", $"'{name}': fetch {i}")]));
        }
        return new PaddleProgram(program, parameters);
    }

    private static OpDesc OpDescOf(Operation op, string type, Dictionary<Value, string> names, Func<string, MirType, bool, IReadOnlySet<string>, string> declare, string what, ref int unnamed)
    {
        var inputs = Slots(op, PaddleDialect.InputsAttr, op.OperandCount, what);
        var outputs = Slots(op, PaddleDialect.OutputsAttr, op.Results.Count, what);
        var withoutLod = op.ReadStrings(PaddleDialect.OutputsWithoutLodAttr) ?? [];
        var outputNames = op.GetAttr(MoDialect.OutputsAttr) is ArrayAttr given ? given.Elements.Select(e => ((StringAttr)e).Value).ToList() : [];
        var desc = new OpDesc { Type = type };
        int at = 0;
        foreach (var (slot, count) in inputs)
        {
            var v = new OpDesc.Types.Var { Parameter = slot };
            for (int i = 0; i < count; i++, at++)
                v.Arguments.Add(names.TryGetValue(op.GetOperand(at), out var n) ? n : throw new MirException($"{what}: input {slot} is a value with no var"));
            desc.Inputs.Add(v);
        }
        at = 0;
        var inputNames = desc.Inputs.SelectMany(v => v.Arguments).ToHashSet(StringComparer.Ordinal);
        var outputSlots = new List<OpDesc.Types.Var>();
        foreach (var (slot, count) in outputs)
        {
            var v = new OpDesc.Types.Var { Parameter = slot };
            for (int i = 0; i < count; i++, at++)
            {
                var result = op.Results[at];
                var var = declare(at < outputNames.Count ? outputNames[at] : $"{type}_{unnamed++}.tmp_{at}", result.Type, !withoutLod.Contains(slot), inputNames);
                names[result] = var;
                v.Arguments.Add(var);
            }
            outputSlots.Add(v);
        }
        if (XShapeOps.Contains(type) && outputSlots.All(s => s.Parameter != "XShape") && op.OperandCount > 0)
        {
            var main = outputSlots.SelectMany(s => s.Arguments).FirstOrDefault() ?? $"{type}_{unnamed++}";
            var xshape = main + ".xshape";
            var x = op.GetOperand(0).Type as TensorType;
            xshape = declare(xshape, x?.Shape is { } s ? new TensorType(x.Element, [0, .. s]) : op.GetOperand(0).Type, true, inputNames);
            outputSlots.Add(new OpDesc.Types.Var { Parameter = "XShape", Arguments = { xshape } });
        }
        desc.Outputs.Add(outputSlots.OrderBy(s => s.Parameter, StringComparer.Ordinal));
        foreach (var (attrName, value) in op.Attributes)
        {
            if (attrName.StartsWith("paddle.", StringComparison.Ordinal) || attrName.StartsWith("mo.", StringComparison.Ordinal)) continue;
            desc.Attrs.Add(PaddleAttributeWriter.Write(attrName, value, what));
        }
        if (op.GetAttr("paddle.is_target") is BoolAttr target) desc.IsTarget = target.Value;
        return desc;
    }

    private static List<(string Slot, int Count)> Slots(Operation op, string attr, int total, string what)
    {
        if (op.GetAttr(attr) is not DictionaryAttr slots)
            throw new MirException($"{what}: it has no {attr} (the op's slots); a paddle.* op made by hand needs one");
        var list = slots.Entries.Select(e => (e.Name, e.Value is IntegerAttr n ? checked((int)n.Value) : throw new MirException($"{what}: {attr} holds {e.Value} for {e.Name}"))).ToList();
        if (list.Sum(s => s.Item2) != total) throw new MirException($"{what}: {attr} counts {list.Sum(s => s.Item2)} values, the op has {total}");
        return list;
    }

    /// <summary>
    /// The names ops write other than in place over <paramref name="constant"/> (an op that reads it and writes a value
    /// of its type under its name, as batch_norm's MeanOut is its Mean).
    /// </summary>
    private static Func<string, bool> WrittenByOthers(Operation constant, Dictionary<string, List<(Operation Op, Value Result)>> writers) =>
        name => writers.TryGetValue(name, out var outputs)
            && outputs.Any(w => !w.Op.Operands.Contains(constant.Result) || !w.Result.Type.Equals(constant.Result.Type));

    private static string UniqueVar(string wanted, Dictionary<string, VarDesc> declared, Func<string, bool>? taken = null)
    {
        bool Free(string name) => !declared.ContainsKey(name) && taken?.Invoke(name) != true;
        if (Free(wanted)) return wanted;
        for (int i = 1; ; i++)
            if (Free($"{wanted}_{i}")) return $"{wanted}_{i}";
    }

    private static VarType TensorVar(MirType type, bool lod, string what)
    {
        if (type is not TensorType tensor) throw new MirException($"{what}: type {type} is not a tensor");
        var lodTensor = new VarType.Types.LoDTensorDesc { Tensor = TensorDesc(tensor, what) };
        if (lod) lodTensor.LodLevel = 0;
        return new VarType { Type = VarType.Types.Type.LodTensor, LodTensor = lodTensor };
    }

    /// <summary>A tensor's element type and dims as Paddle declares them (a var's, and each saved parameter's header).</summary>
    public static VarType.Types.TensorDesc TensorDesc(TensorType tensor, string what)
    {
        var code = PaddleDataTypes.Code(tensor.Element) ?? throw new MirException($"{what}: Paddle has no element type for {tensor.Element}");
        var desc = new VarType.Types.TensorDesc { DataType = (VarType.Types.Type)code };
        // Paddle's dims [] are a scalar: a var of unknown rank has no faithful form
        var shape = tensor.Shape ?? throw new MirException($"{what}: its rank is not known, and a Paddle var declares one (give the input's shape with --set-input-shape)");
        desc.Dims.AddRange(shape.Select(d => d < 0 ? -1 : d));
        return desc;
    }

    /// <summary>The feed or fetch op's other attributes, as the importer kept them.</summary>
    private static IEnumerable<OpDesc.Types.Attr> Extra(DictionaryAttr attrs, string name, string what) =>
        attrs.Get(name) is DictionaryAttr extra ? extra.Entries.Select(e => PaddleAttributeWriter.Write(e.Name, e.Value, what)) : [];

    private static OpDesc.Types.Attr Col(int i) => new() { Name = "col", Type = AttrType.Int, I = i };

    private static OpDesc Op(string type, (string Slot, string[] Args)[] inputs, (string Slot, string[] Args)[] outputs, params OpDesc.Types.Attr[] attrs)
    {
        var op = new OpDesc { Type = type };
        foreach (var (slot, args) in inputs) op.Inputs.Add(new OpDesc.Types.Var { Parameter = slot, Arguments = { args } });
        foreach (var (slot, args) in outputs) op.Outputs.Add(new OpDesc.Types.Var { Parameter = slot, Arguments = { args } });
        op.Attrs.Add(attrs);
        return op;
    }
}
