using Mopt.Dialects.Mo;
using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--strip-unused='inputs=a,b outputs=y'</c>, as TensorFlow's strip_unused_nodes: keeps only what the named
/// outputs need from the named inputs.
/// <code>
/// Before: @main(%img "image", %mask "mask") ... -> (%y "logits", %aux "aux")
/// After (inputs=image outputs=logits): @main(%img "image") ... -> (%y "logits")
/// </code>
/// A name is a graph input or output (<c>mo.name</c>) or a tensor inside the graph (<c>mo.outputs</c>; a name several
/// ops write, as Caffe's in-place layers do, is the last one's value, the one Caffe's net holds after a forward pass). A named input
/// that is a tensor inside the graph becomes a new graph input there (everything before it goes); a named output
/// inside the graph becomes a graph output. Inputs nothing needs any more are removed. Without <c>inputs</c> the
/// graph inputs stay; without <c>outputs</c> the graph outputs stay.
/// </summary>
public sealed class StripUnused : Pass
{
    private readonly PassOption<string> _inputs = new("inputs", "comma-separated input names (graph inputs or tensors to cut at)", "");
    private readonly PassOption<string> _outputs = new("outputs", "comma-separated output names (graph outputs or inner tensors)", "");

    public override string Name => "strip-unused";
    public override string Summary => "Keep only what the named outputs need from the named inputs";
    public override IReadOnlyList<PassOption> Options => [_inputs, _outputs];

    public bool HasNames => _inputs.Value.Length > 0 || _outputs.Value.Length > 0;

    public override void Run(MirModule module, PassContext context)
    {
        if (!HasNames)
        {
            context.Log("no inputs or outputs named: nothing to strip");
            return;
        }
        var func = module.MainFunction;
        var inputNames = Split(_inputs.Value);
        var outputNames = Split(_outputs.Value);

        // 1. Outputs: the values the new return gives back, with their names.
        var outputs = outputNames.Count == 0
            ? func.Return!.Operands.Select((v, i) => (v, func.ResultName(i) ?? $"output_{i}")).ToList()
            : outputNames.Select(n => (FindTensor(func, n) ?? throw new InvalidOperationException($"strip-unused: no tensor named '{n}' to keep as an output"), n)).ToList();

        // 2. Inputs: graph inputs by name, or inner tensors that become new graph inputs.
        var keptArgs = new HashSet<BlockArgument>();
        var cut = new HashSet<Value>();
        foreach (var name in inputNames)
        {
            var value = FindTensor(func, name) ?? throw new InvalidOperationException($"strip-unused: no tensor named '{name}' to use as an input");
            if (value is BlockArgument arg) { keptArgs.Add(arg); continue; }
            var newArg = func.Body.AddArgument(value.Type);
            func.SetArgAttrs(newArg.Index, DictionaryAttr.From([new NamedAttr(MoDialect.NameAttr, new StringAttr(name))]));
            value.ReplaceAllUsesWith(newArg);
            keptArgs.Add(newArg);
            cut.Add(newArg);
            context.Count("tensors made inputs");
        }

        // 3. The new return.
        var ret = func.Return!;
        ret.SetOperands(outputs.Select(o => o.Item1));
        for (int i = 0; i < outputs.Count; i++)
            func.SetResultAttrs(i, DictionaryAttr.From([new NamedAttr(MoDialect.NameAttr, new StringAttr(outputs[i].Item2))]));
        TrimResultAttrs(func, outputs.Count);

        // 4. Everything the return does not reach goes.
        var needed = new HashSet<Operation> { ret };
        var work = new Stack<Value>(ret.Operands);
        while (work.Count > 0)
        {
            if (work.Pop() is not OpResult { Owner: var producer } || !needed.Add(producer)) continue;
            foreach (var inner in producer.Walk())
                foreach (var v in inner.Operands) work.Push(v);
        }
        int removed = func.Body.EraseAll(op => !needed.Contains(op));
        context.Count("operations removed", removed);

        // 5. Inputs nothing reads any more go, unless they were asked for by name.
        for (int i = func.Arguments.Count - 1; i >= 0; i--)
        {
            var arg = func.Arguments[i];
            if (arg.HasUses || keptArgs.Contains(arg)) continue;
            func.Body.RemoveArgument(i);
            func.RemoveArgAttrsAt(i);
            context.Count("inputs removed");
        }
        func.UpdateType();
    }

    private static Value? FindTensor(FuncOp func, string name)
    {
        for (int i = 0; i < func.Arguments.Count; i++)
            if (func.ArgName(i) == name) return func.Arguments[i];
        var ret = func.Return!;
        for (int i = 0; i < ret.OperandCount; i++)
            if (func.ResultName(i) == name) return ret.GetOperand(i);
        // The last writer of a name: Caffe's in-place layers (relu1 writing conv1) reuse their bottom's name.
        foreach (var op in func.Body.Operations.Reverse())
            if (op.GetAttr(MoDialect.OutputsAttr) is ArrayAttr names)
                for (int i = 0; i < names.Elements.Count && i < op.Results.Count; i++)
                    if (names.Elements[i] is StringAttr s && s.Value == name) return op.Results[i];
        foreach (var op in func.Body.Operations)
            if (op.Results.Count == 1 && op.Location.FirstName == name) return op.Result;
        return null;
    }

    private static void TrimResultAttrs(FuncOp func, int count)
    {
        if (func.Op.GetAttr<ArrayAttr>("res_attrs") is { } arr && arr.Elements.Count > count)
            func.Op.SetAttr("res_attrs", ArrayAttr.Of(arr.Elements.Take(count)));
    }

    private static List<string> Split(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
