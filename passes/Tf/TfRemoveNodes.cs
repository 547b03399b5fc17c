using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-remove-nodes='op=Identity,CheckNumerics'</c>, the Graph Transform Tool's <c>remove_nodes</c>
/// (tensorflow/tools/graph_transforms/remove_nodes.cc): each node of those op types is bypassed, its readers reading
/// its input instead.
/// <code>
/// Before: %w = "tf.Const"() loc("w") ; %i = "tf.Identity"(%w) loc("w/read") ; "tf.MatMul"(%x, %i) {tf.control_inputs = []}
///         "tf.Relu"(%y) {tf.control_inputs = ["w/read"]}
/// After:  %w = "tf.Const"() loc("w") ; "tf.MatMul"(%x, %w) ; "tf.Relu"(%y) {tf.control_inputs = ["w"]}
/// </code>
/// Exact conditions, as transform_graph's pattern (a node of the op type with exactly 1..max-inputs inputs, counting
/// <c>^control</c> ones): the node has one result, at least one data input and no more than <c>max-inputs</c>
/// inputs in all; it is not a graph output (a returned value keeps its node, as transform_graph keeps the nodes named
/// in <c>--outputs</c>); the graph's inputs are arguments, never removed. Its readers read its first data input; a
/// <c>^node</c> dependency on it becomes one on that input's node. A node with control inputs of its own is kept
/// (transform_graph's pattern does not match it with max_inputs=1; with more it would drop them). Repeated until
/// nothing changes, op type by op type, so chains of Identity go whole.
/// </summary>
public sealed class TfRemoveNodes : Pass
{
    private readonly PassOption<string> _ops = new("op", "the op types to remove, comma-separated (Identity,CheckNumerics)", "");
    private readonly PassOption<int> _maxInputs = new("max-inputs", "the most inputs (data and control) a removed node may have", 1, valid: n => n >= 1);

    public override string Name => "tf-remove-nodes";
    public override string Summary => "TensorFlow: bypass the nodes of the given op types (Identity, CheckNumerics) (GTT remove_nodes)";
    public override IReadOnlyList<PassOption> Options => [_ops, _maxInputs];

    public TfRemoveNodes Configure(GttTransform t)
    {
        var ops = t.All("op");
        if (ops.Count == 0) throw new PipelineException("--tf-transforms: remove_nodes expects at least one 'op' argument, e.g. remove_nodes(op=Identity)");
        _ops.Parse(string.Join(',', ops));
        if (t.One("max_inputs") is { } max) _maxInputs.Parse(max);
        return this;
    }

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var types = _ops.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (types.Length == 0) throw new PipelineException("tf-remove-nodes: no op given (op=Identity,CheckNumerics)");
        var func = module.MainFunction;
        foreach (var type in types)
        {
            bool changed;
            do
            {
                changed = false;
                var outputs = TfGraph.OutputNodes(func);
                var renames = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var op in func.Body.Operations.ToList())
                {
                    if (op.Dialect != TfDialect.Name || op.OpType != type) continue;
                    if (Why(op, outputs) is { } reason) { context.Skip(op, reason); continue; }
                    var input = op.GetOperand(0);
                    if (TfGraph.NodeName(op) is { } name && TfGraph.NodeOf(input, func) is { } inputNode) renames[name] = inputNode;
                    op.Result.ReplaceAllUsesWith(input);
                    op.Erase();
                    context.Count("nodes removed");
                    changed = true;
                }
                TfGraph.RenameControlInputs(func, renames);
            } while (changed);
        }
    }

    private string? Why(Operation op, HashSet<Operation> outputs)
    {
        if (outputs.Contains(op)) return "it is an output of the graph";
        if (op.Results.Count != 1) return $"it has {op.Results.Count} outputs";
        if (op.OperandCount == 0) return "it has no data input to pass on";
        int control = TfGraph.ControlInputs(op).Count;
        if (op.OperandCount + control > _maxInputs.Value)
            return $"it has {op.OperandCount + control} inputs{(control > 0 ? $" ({control} control)" : "")}, more than max-inputs={_maxInputs.Value}";
        if (control > 0) return "it has control inputs, which removing it would drop";
        return null;
    }
}
