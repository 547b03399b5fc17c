using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--sort-by-execution-order</c>: orders each function body topologically by rank, keeping the original order
/// among operations of equal rank.
/// <code>
/// rank(op) = 0 for an operation with no operands defined in the block (constants, ops on arguments only)
///          = 1 + max(rank of the producers of its operands) otherwise
/// </code>
/// The block's terminator (an op whose definition says Terminator: <c>func.return</c>) stays last. A block whose operations use a value defined later (a cycle) is left as it is and
/// reported: sorting it would not be a reordering but a different program.
/// </summary>
public sealed class SortByExecutionOrder : Pass
{
    public override string Name => "sort-by-execution-order";
    public override string Summary => "Order operations topologically by rank, stable among equal ranks";

    public override void Run(MirModule module, PassContext context)
    {
        bool reordered = false;
        foreach (var block in module.FunctionBlocks()) reordered |= SortBlock(block, context);
        if (!reordered) context.MarkAllPreserved();
        // Operations only move: no weight gains or loses a reader, so the pass manager's dead-weight sweep has nothing to find.
        context.MarkWeightsPreserved();
    }

    /// <summary>
    /// Sorts a block whose every producer comes before its users (what a pass that keeps the data flow's order leaves,
    /// and an importer that puts each layer's weights just before it): each op's rank is then known when it is reached,
    /// and the sort is a stable bucket sort by rank, since Kahn's levels are the ranks and each keeps the block's order.
    /// Returns null, having changed nothing, for any other block (a use before its definition, nested regions): the full sort.
    /// </summary>
    private static bool? SortInOrderBlock(Block block, PassContext context)
    {
        var ops = block.Operations;
        int count = ops.Count > 0 && context.Dialects.Has(ops[^1], OpTraits.Terminator) ? ops.Count - 1 : ops.Count;
        var rankOf = new Dictionary<Operation, int>(count);
        var ranks = new int[count];
        int last = 0, maxRank = 0;
        bool sorted = true;
        for (int i = 0; i < count; i++)
        {
            var op = ops[i];
            if (op.RegionCount > 0) return null; // values read inside nested regions: the full sort
            int r = 0;
            for (int k = 0; k < op.OperandCount; k++)
            {
                if (op.GetOperand(k) is not OpResult { Owner: var producer } || producer.Parent != block) continue;
                if (!rankOf.TryGetValue(producer, out int p)) return null; // defined later (or the terminator): the full sort
                if (p + 1 > r) r = p + 1;
            }
            if (r < last) sorted = false;
            last = r;
            if (r > maxRank) maxRank = r;
            rankOf[op] = r;
            ranks[i] = r;
        }
        if (sorted) return false;

        // Stable counting sort by rank; an op of a lower rank after one of a higher rank moves, so the order changes.
        var start = new int[maxRank + 2];
        for (int i = 0; i < count; i++) start[ranks[i] + 1]++;
        for (int r = 1; r < start.Length; r++) start[r] += start[r - 1];
        var order = new Operation[ops.Count];
        for (int i = 0; i < count; i++) order[start[ranks[i]]++] = ops[i];
        if (count < ops.Count) order[count] = ops[count];
        block.Reorder(order);
        context.Count("blocks reordered");
        return true;
    }

    /// <summary>Sorts <paramref name="block"/>; returns whether its order changed.</summary>
    private static bool SortBlock(Block block, PassContext context)
    {
        if (SortInOrderBlock(block, context) is bool inOrder) return inOrder;
        var ops = block.Operations.ToList();
        var terminator = ops.Count > 0 && context.Dialects.Has(ops[^1], OpTraits.Terminator) ? ops[^1] : null;
        if (terminator is not null) ops.RemoveAt(ops.Count - 1);

        var position = new Dictionary<Operation, int>();
        for (int i = 0; i < ops.Count; i++) position[ops[i]] = i;

        // Producers in this block, including values read inside nested regions; each producer once per user.
        var remaining = new int[ops.Count];
        var users = new List<int>?[ops.Count];
        for (int i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            if (op.RegionCount == 0)
                for (int k = 0; k < op.OperandCount; k++) AddEdge(op.GetOperand(k), i);
            else
                foreach (var nested in op.Walk())
                    for (int k = 0; k < nested.OperandCount; k++) AddEdge(nested.GetOperand(k), i);
        }

        void AddEdge(Value v, int user)
        {
            if (v is not OpResult { Owner: var producer } || producer.Parent != block || !position.TryGetValue(producer, out int p)) return;
            var list = users[p] ??= new List<int>();
            // Users are visited in order, so a producer already counted for this user is its list's last entry.
            if (list.Count > 0 && list[^1] == user) return;
            list.Add(user);
            remaining[user]++;
        }

        // Kahn's algorithm by levels: a level is every op whose producers are all in earlier levels.
        var order = new List<Operation>(ops.Count);
        var level = new List<int>();
        for (int i = 0; i < ops.Count; i++)
            if (remaining[i] == 0) level.Add(i);
        while (level.Count > 0)
        {
            var next = new List<int>();
            foreach (int i in level)
            {
                order.Add(ops[i]);
                if (users[i] is { } readers)
                    foreach (int u in readers)
                        if (--remaining[u] == 0) next.Add(u);
            }
            next.Sort();
            level = next;
        }
        if (order.Count != ops.Count)
        {
            context.Log("left a block unsorted: its operations form a cycle");
            return false;
        }
        if (terminator is not null) order.Add(terminator);
        bool changed = !order.SequenceEqual(block.Operations);
        block.Reorder(order);
        if (changed) context.Count("blocks reordered");
        return changed;
    }
}
