using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--infer-shapes</c>: works out the result types of operations from their inputs, in program order, with the
/// rule each operation's definition gives (<see cref="IInferTypes"/>: the ONNX operators' rules live in the onnx
/// dialect), and updates each function's signature when the types it returns became more precise.
/// <code>
/// Before: %0 = "onnx.Conv"(%x, %w) {pads = [1, 1, 1, 1]} : (tensor&lt;?x3x32x32xf32&gt;, tensor&lt;8x3x3x3xf32&gt;) -> tensor&lt;*xf32&gt;
/// After:  %0 = "onnx.Conv"(%x, %w) {pads = [1, 1, 1, 1]} : (tensor&lt;?x3x32x32xf32&gt;, tensor&lt;8x3x3x3xf32&gt;) -> tensor&lt;?x8x32x32xf32&gt;
/// </code>
/// It only refines: an unranked result gets a rank, a <c>?</c> gets a number the inputs prove; a dynamic dim
/// that comes from a dynamic input stays <c>?</c>. Operations whose definition has no rule (or that have no
/// definition), or whose inputs say too little, keep their types; so do operations without results or whose results
/// are all <c>none</c> (<c>onnx.NoValue</c>). A declared type that contradicts the inputs is an error naming the operation.
/// </summary>
public sealed class InferShapes : Pass
{
    public override string Name => "infer-shapes";
    public override string Summary => "Infer the result types of operations from their inputs (refines tensor<*x..> and ? dims)";

    private readonly PassOption<string> _onConflict = new("on-conflict",
        "error: a declared type the inputs contradict is an error; keep: keep the declared type, report the op under --debug",
        "error", valid: v => v is "error" or "keep");

    public override IReadOnlyList<PassOption> Options => [_onConflict];

    // Asked twice of every op: a loop, where LINQ's All would allocate an enumerator each time.
    private static bool AllResults(Operation op, Func<MirType, bool> holds)
    {
        var results = op.Results;
        for (int i = 0; i < results.Count; i++)
            if (!holds(results[i].Type)) return false;
        return true;
    }

    private static bool SameTypes(Operation ret, IReadOnlyList<MirType> types)
    {
        if (ret.OperandCount != types.Count) return false;
        for (int i = 0; i < types.Count; i++)
            if (!ret.GetOperand(i).Type.Equals(types[i])) return false;
        return true;
    }

    public override void Run(MirModule module, PassContext context)
    {
        if (context.FactsBefore.HasFlag(ModuleFacts.TypesInferred))
        {
            // Right after a lowering that typed every op it emitted by these rules: inferring again would change nothing.
            context.Log("every result type is already inferred (the pass before established it): nothing to do");
            context.MarkAllPreserved();
            return;
        }
        if (Infer(module, context, keepConflicts: _onConflict.Value == "keep", quiet: false) == 0) context.MarkAllPreserved();
    }

    /// <summary>
    /// The pass's work, for passes that need ranked types to do theirs (prune-channels); <paramref name="quiet"/>: no
    /// statistics or skips of its own in <paramref name="context"/>. Returns the number of types refined.
    /// </summary>
    public static long Infer(MirModule module, PassContext context, bool keepConflicts, bool quiet)
    {
        var ctx = new TypeInferenceContext(module, context.Dialects);
        long refined = 0;
        foreach (var func in module.Functions.ToList())
        {
            var ops = new List<Operation>();
            func.Op.AddNested(ops, static _ => true);
            foreach (var op in ops)
            {
                if (AllResults(op, static t => t == ElementType.None)) continue; // nothing to type: a terminator, an absent value
                int changed;
                try { changed = TypeInference.Apply(op, ctx); }
                catch (MirException e) when (keepConflicts)
                {
                    // In a pipeline: the model is what it is; leave this op's types as declared and say so.
                    if (!quiet) context.Skip(op, e.Message);
                    continue;
                }
                if (changed > 0)
                {
                    refined += changed;
                    if (!quiet) context.Count("results refined", changed);
                }
                if (AllResults(op, static t => t is not TensorType tensor || tensor.HasStaticShape)) continue;
                if (quiet) continue;
                if (changed < 0) context.Skip(op, ctx.Reason ?? "not inferred");
                else if (context.Debug is not null) context.Log($"{TypeInference.Describe(op)}: {string.Join(", ", op.Results.Select(r => r.Type.Text))} (not fully static)");
            }
            if (func.Return is { } ret && !SameTypes(ret, func.Type.Results))
            {
                func.UpdateType();
                refined++;
                if (!quiet) context.Count("function types updated");
            }
        }
        return refined;
    }
}
