using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-merge-duplicate-nodes</c>, the Graph Transform Tool's <c>merge_duplicate_nodes</c>
/// (MergeDuplicateNodes in tensorflow/tools/graph_transforms/quantize_nodes.cc): nodes that compute the same thing
/// become one, the first; readers of the others (and <c>^name</c> dependencies on them) read it.
/// <code>
/// Before: %a = "tf.Const"() {value = dense&lt;1.0&gt;} loc("a") ; %b = "tf.Const"() {value = dense&lt;1.0&gt;} loc("b")
///         %r1 = "tf.Relu"(%x) loc("r1") ; %r2 = "tf.Relu"(%x) loc("r2") ; "tf.Add"(%a, %b) ...
/// After:  %a = "tf.Const"() {value = dense&lt;1.0&gt;} loc("a") ; %r1 = "tf.Relu"(%x) loc("r1") ; "tf.Add"(%a, %a) ...
/// </code>
/// The same: op type, inputs (in order, data and control), attributes (Const values compared by their bytes) and
/// device; the name does not count, except that a graph output never merges (transform_graph keeps the names of
/// its --inputs and --outputs apart the same way). Only ops whose definitions say pure (transform_graph skips
/// stateful ones by TensorFlow's op registry; mopt also leaves the ops it has no definition for). Repeated until
/// nothing merges, so duplicates of duplicates merge too.
/// </summary>
public sealed class TfMergeDuplicateNodes : Pass
{
    public override string Name => "tf-merge-duplicate-nodes";
    public override string Summary => "TensorFlow: merge nodes with the same op, inputs, attributes and device (GTT merge_duplicate_nodes)";

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var func = module.MainFunction;
        bool changed;
        do
        {
            changed = false;
            var outputs = TfGraph.OutputNodes(func);
            var first = new Dictionary<string, Operation>(StringComparer.Ordinal);
            var renames = new Dictionary<string, string>(StringComparer.Ordinal);
            var ids = new Dictionary<Value, string>();
            for (int i = 0; i < func.Arguments.Count; i++) ids[func.Arguments[i]] = "arg" + i;
            int next = 0;
            foreach (var op in func.Body.Operations.ToList())
            {
                for (int r = 0; r < op.Results.Count; r++) ids[op.Results[r]] = $"{next}:{r}";
                next++;
                if (op.Dialect != TfDialect.Name || outputs.Contains(op) || op.Regions.Count > 0) continue;
                if (context.Dialects.Find(op) is not { } def || !def.Traits.IsPure()) continue;
                var key = Key(op, ids, module);
                if (!first.TryGetValue(key, out var original)) { first[key] = op; continue; }
                for (int r = 0; r < op.Results.Count; r++) op.Results[r].ReplaceAllUsesWith(original.Results[r]);
                if (TfGraph.NodeName(op) is { } gone && TfGraph.NodeName(original) is { } kept) renames[gone] = kept;
                context.Log($"merged {op.OpType} '{TfGraph.NodeName(op)}' into '{TfGraph.NodeName(original)}'");
                op.Erase();
                context.Count("nodes merged");
                changed = true;
            }
            TfGraph.RenameControlInputs(func, renames);
        } while (changed);
    }

    /// <summary>What must be equal: op, inputs, attributes (a Const's value by its bytes), result count.</summary>
    private static string Key(Operation op, Dictionary<Value, string> ids, MirModule module)
    {
        var parts = new List<string> { op.Name, op.Results.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        parts.AddRange(op.Operands.Select(v => ids[v]));
        foreach (var a in op.Attributes)
        {
            if (a.Name == "value" && op.Name == TfDialect.ConstOp && ConstantTensor.TryRead(a.Value, module.Resources) is { } t)
                parts.Add($"value={t.Type}:{Convert.ToHexString(t.Bytes.Span)}");
            else parts.Add($"{a.Name}={a.Value}");
        }
        return string.Join("\u0001", parts);
    }
}
