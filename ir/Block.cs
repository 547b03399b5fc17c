using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>A list of operations with arguments; a function body is one block.</summary>
public sealed class Block
{
    private readonly List<Operation> _operations = new();
    private readonly List<BlockArgument> _arguments = new();

    internal Block(Region parent) => Parent = parent;

    public Region Parent { get; }
    /// <summary><c>^bb0</c> when the text named it; the printer names non-entry blocks itself.</summary>
    public string? Label { get; set; }
    public IReadOnlyList<Operation> Operations => _operations;
    public IReadOnlyList<BlockArgument> Arguments => _arguments;
    // The lists themselves, for the verifier's walk after every pass: no interface call per element.
    internal List<Operation> OperationList => _operations;
    internal List<BlockArgument> ArgumentList => _arguments;

    public BlockArgument AddArgument(MirType type, Location? location = null)
    {
        var arg = new BlockArgument(this, _arguments.Count, type, location ?? Location.Unknown);
        _arguments.Add(arg);
        return arg;
    }

    public void RemoveArgument(int index)
    {
        if (_arguments[index].HasUses) throw new InvalidOperationException($"block argument #{index} is still used");
        _arguments.RemoveAt(index);
        for (int i = index; i < _arguments.Count; i++) _arguments[i].Index = i;
    }

    public int IndexOf(Operation op) => IndexOfReference(op);

    public void Append(Operation op) => Insert(_operations.Count, op);

    public void Insert(int index, Operation op)
    {
        if (op.Parent is not null) throw new InvalidOperationException($"{op.Name} is already in a block");
        _operations.Insert(index, op);
        op.Parent = this;
    }

    public void InsertBefore(Operation anchor, Operation op) => Insert(IndexOfOrThrow(anchor), op);
    public void InsertAfter(Operation anchor, Operation op) => Insert(IndexOfOrThrow(anchor) + 1, op);

    internal void Remove(Operation op)
    {
        int i = IndexOfReference(op);
        if (i < 0) return;
        _operations.RemoveAt(i);
        op.Parent = null;
    }

    /// <summary>
    /// Where <paramref name="op"/> is, by reference (operations are equal only to themselves): a plain scan, where
    /// List.IndexOf makes a virtual Equals call per operation, and rewrites ask on every insert and erase. The scan
    /// starts where the last one ended and goes outward: a rewrite inserts before its anchor and erases the anchor and
    /// its dead producers just before it, so a lowering of a whole block finds each at once instead of scanning from the top.
    /// </summary>
    private int IndexOfReference(Operation op)
    {
        var ops = CollectionsMarshal.AsSpan(_operations);
        int n = ops.Length;
        if (n == 0) return -1;
        int start = Math.Min(_lastIndex, n - 1);
        for (int d = 0; d <= n; d++)
        {
            int below = start - d, above = start + d + 1;
            if (below < 0 && above >= n) break;
            if (below >= 0 && ReferenceEquals(ops[below], op)) return _lastIndex = below;
            if (above < n && ReferenceEquals(ops[above], op)) return _lastIndex = above;
        }
        return -1;
    }

    // Where the last look-up found an operation: where the next is looked for first.
    private int _lastIndex;

    /// <summary>Removes every operation matching <paramref name="predicate"/> in one sweep (each must be unused).</summary>
    public int EraseAll(Func<Operation, bool> predicate)
    {
        var doomed = _operations.Where(predicate).ToList();
        var set = doomed.ToHashSet();
        foreach (var op in doomed)
            foreach (var result in op.Results)
                if (result.Users.Any(u => !IsInside(u, set)))
                    throw new InvalidOperationException($"cannot erase {op.Name} at {op.Location}: result #{result.Index} is still used");
        foreach (var op in doomed) op.DropAllReferences();
        int removed = _operations.RemoveAll(set.Contains);
        foreach (var op in doomed) op.Parent = null;
        return removed;
    }

    private static bool IsInside(Operation op, HashSet<Operation> set)
    {
        for (Operation? at = op; at is not null; at = at.Parent?.Parent.Parent)
            if (set.Contains(at)) return true;
        return false;
    }

    /// <summary>Replaces the operation order (the same operations, e.g. sorted).</summary>
    public void Reorder(IReadOnlyList<Operation> order)
    {
        bool kept = order.Count == _operations.Count;
        for (int i = 0; kept && i < order.Count; i++) kept = order[i].Parent == this;
        if (!kept) throw new InvalidOperationException("a reorder must keep exactly the block's operations");
        _operations.Clear();
        _operations.AddRange(order);
    }

    private int IndexOfOrThrow(Operation anchor)
    {
        int i = IndexOfReference(anchor);
        return i >= 0 ? i : throw new InvalidOperationException($"{anchor.Name} is not in this block");
    }
}

/// <summary>A list of blocks owned by an operation (a function body, a loop body).</summary>
public sealed class Region
{
    private readonly List<Block> _blocks = new();
    internal Region(Operation parent) => Parent = parent;
    public Operation Parent { get; }
    public IReadOnlyList<Block> Blocks => _blocks;
    internal List<Block> BlockList => _blocks;
    public Block AddBlock()
    {
        var b = new Block(this);
        _blocks.Add(b);
        return b;
    }
}
