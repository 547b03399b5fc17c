using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-sort-by-execution-order</c>, the Graph Transform Tool's <c>sort_by_execution_order</c>
/// (SortByExecutionOrder in tensorflow/tools/graph_transforms/transform_utils.cc): the nodes in an order where every
/// input, data or <c>^control</c>, comes before its reader, so the written GraphDef lists them that way.
/// <code>
/// Before: "tf.Relu"(%x) {tf.control_inputs = ["c"]} loc("r") ; "tf.Const"() loc("c")
/// After:  "tf.Const"() loc("c") ; "tf.Relu"(%x) {tf.control_inputs = ["c"]} loc("r")
/// </code>
/// TensorFlow's algorithm: a node is ready when all its inputs are placed; the ready nodes are kept on a stack (the
/// last one made ready goes next), starting with the nodes that have no inputs pushed in file order (so the
/// last of them goes first). The inputs (arguments,
/// TensorFlow's Placeholders) are always written first by mopt, so they count as placed from the start. mopt's
/// generic <c>--sort-by-execution-order</c> sorts by rank and does not see control inputs.
/// </summary>
public sealed class TfSortByExecutionOrder : Pass
{
    public override string Name => "tf-sort-by-execution-order";
    public override string Summary => "TensorFlow: order the nodes so each input (data or control) comes first, as transform_graph does (GTT sort_by_execution_order)";

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var func = module.MainFunction;
        var ops = func.Body.Operations.Where(o => o.Name != FuncOp.ReturnOpName).ToList();
        var index = new Dictionary<Operation, int>();
        for (int i = 0; i < ops.Count; i++) index[ops[i]] = i;
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < ops.Count; i++)
            if (TfGraph.NodeName(ops[i]) is { } n) byName.TryAdd(n, i);

        var pending = new int[ops.Count];
        var readers = new List<int>[ops.Count];
        for (int i = 0; i < ops.Count; i++) readers[i] = [];
        for (int i = 0; i < ops.Count; i++)
        {
            var producers = ops[i].Operands.OfType<OpResult>().Where(r => index.ContainsKey(r.Owner)).Select(r => index[r.Owner])
                .Concat(TfGraph.ControlInputs(ops[i]).Where(byName.ContainsKey).Select(n => byName[n]));
            foreach (var p in producers)
            {
                readers[p].Add(i);
                pending[i]++;
            }
        }
        var ready = new Stack<int>();
        for (int i = 0; i < ops.Count; i++) if (pending[i] == 0) ready.Push(i);
        var order = new List<Operation>(ops.Count + 1);
        while (ready.Count > 0)
        {
            int o = ready.Pop();
            order.Add(ops[o]);
            foreach (int r in readers[o])
                if (--pending[r] == 0) ready.Push(r);
        }
        if (order.Count != ops.Count)
        {
            context.Log("left the graph as it is: its nodes form a cycle (through control inputs)");
            return;
        }
        if (func.Return is { } ret) order.Add(ret);
        if (!order.SequenceEqual(func.Body.Operations)) context.Count("graphs reordered");
        func.Body.Reorder(order);
    }
}
