using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// What every lowering of a source dialect (<c>tf.*</c>, <c>caffe.*</c>) to <c>onnx.*</c> does the same way: ops are
/// lowered in program order by a table of <see cref="Lowering"/>s keyed by op type, so each op's inputs already have ONNX
/// types and the onnx shape rules type its results. An op with no lowering, or whose lowering needs what the graph does
/// not give, is an error naming every such node and why, and nothing is written; no node is ever dropped. The module
/// states opset <see cref="Opset"/> unless it states one.
/// </summary>
public abstract class ConvertToOnnx : Pass
{
    /// <summary>The opset a lowered module states (Softmax's single axis needs 13; 17 is what ONNX Runtime runs everywhere).</summary>
    public const long Opset = 17;

    /// <summary>The dialect lowered, with its dot (<c>"tf."</c>).</summary>
    protected abstract string Prefix { get; }

    /// <summary>The source's name in messages (<c>TensorFlow</c>).</summary>
    protected abstract string SourceName { get; }

    /// <summary>Op type (without the prefix) → its lowering.</summary>
    private protected abstract IReadOnlyDictionary<string, Lowering> Table { get; }

    /// <summary>Runs after every op is lowered and the functions retyped.</summary>
    protected virtual void AfterLowering(MirModule module, PassContext context) { }

    /// <summary>Whether <see cref="AfterLowering"/> keeps every result type what its shape rule gives (a rewrite after the lowering may not).</summary>
    protected virtual bool AfterLoweringKeepsTypes => true;

    /// <summary>
    /// Runs before any op is lowered (a rewrite in the source dialect that the table relies on); returns whether it may
    /// have changed the source ops (they are then listed again).
    /// </summary>
    protected virtual bool BeforeLowering(MirModule module, PassContext context) => false;

    /// <summary>True when the module has ops of <paramref name="prefix"/>: writing it as ONNX needs the pass first.</summary>
    protected static bool Has(MirModule module, string prefix) => module.AnyOperation(op => op.Name.StartsWith(prefix, StringComparison.Ordinal));

    private bool IsSource(Operation op) => op.Name.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The operations named <paramref name="prefix"/>* in the module, in program order (as <see cref="MirModule.AllOperations"/> lists them).</summary>
    private static List<Operation> SourceOps(MirModule module, string prefix)
    {
        // Runs on every lowering and on every write of a module as ONNX: one loop by index, no iterators.
        var found = new List<Operation>();
        module.Op.AddNested(found, op => op.Name.StartsWith(prefix, StringComparison.Ordinal));
        return found;
    }

    public override void Run(MirModule module, PassContext context)
    {
        var found = SourceOps(module, Prefix);
        if (found.Count == 0)
        {
            context.MarkAllPreserved();
            return;
        }
        // Each op type's lowering, looked up once per type (null: none, an error naming every such op).
        var table = Table;
        var byName = new Dictionary<string, Lowering?>(StringComparer.Ordinal);
        List<Operation>? unknown = null;
        foreach (var op in found)
        {
            if (!byName.TryGetValue(op.Name, out var lowering))
                byName[op.Name] = lowering = table.TryGetValue(op.OpType, out var l) ? l : null;
            if (lowering is null) (unknown ??= new()).Add(op);
        }
        if (unknown is not null)
            throw Failure(unknown.Select(op => $"{NodeText(op)}: no ONNX lowering for this op type"));

        if (OnnxOpset.Stated(module) is { } stated && stated < 13)
            throw new MirException($"cannot lower to ONNX opset {stated}: the {SourceName} lowering needs opset 13 or later");
        long opset = OnnxOpset.Stated(module) ?? Opset;
        module.Op.SetAttr(OnnxOpset.OpsetAttr, IntegerAttr.I64(opset));

        bool rewritten = BeforeLowering(module, context);
        // Each lowered op is typed by its rule as it is emitted, in program order; so the whole module is when nothing
        // else reads a value (constants, the return aside) and no region needs its own typing.
        bool typedByRules = AfterLoweringKeepsTypes && !module.AnyOperation(op =>
            op.RegionCount > 0 || op.OperandCount > 0 && !IsSource(op) && !context.Dialects.Has(op, OpTraits.Terminator));
        context.Revoke(ModuleFacts.TypesInferred);
        var sourceOps = rewritten ? SourceOps(module, Prefix) : found;
        var types = new TypeInferenceContext(module, context.Dialects);
        // An op type BeforeLowering introduced is looked up then.
        var driver = new ConversionDriver(module, context, Prefix, $"{Prefix[..^1]} ops lowered",
            op => byName.TryGetValue(op.Name, out var l) && l is not null ? l : table[op.OpType], types);
        driver.Run(sourceOps);
        var blocked = driver.Blocked;

        var left = SourceOps(module, Prefix);
        if (left.Count > 0)
            throw Failure(left.Select(op => $"{NodeText(op)}: " + (blocked.TryGetValue(op, out var why) ? why : WaitingFor(op))));
        foreach (var func in module.Functions) func.UpdateType();
        AfterLowering(module, context);
        if (typedByRules) context.Establish(ModuleFacts.TypesInferred);
    }

    private static string NodeText(Operation op) => $"node '{op.Location.FirstName ?? "?"}' ({op.OpType})";

    private string WaitingFor(Operation op) =>
        op.Operands.FirstOrDefault(v => v.Type is not TensorType || v is OpResult r && IsSource(r.Owner)) is { } v
            ? $"its input {ConversionDriver.Describe(v)} is not lowered" : "not lowered";

    private static MirException Failure(IEnumerable<string> lines)
    {
        var list = lines.ToList();
        return new MirException(list.Count == 1
            ? $"cannot lower to ONNX: {list[0]}"
            : $"cannot lower to ONNX ({list.Count} nodes):\n  " + string.Join("\n  ", list));
    }
}
