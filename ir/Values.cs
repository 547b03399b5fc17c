namespace Mopt.Ir;

/// <summary>An SSA value: an operation's result or a block's argument. It knows all its uses.</summary>
public abstract class Value
{
    private readonly List<OpOperand> _uses = new();
    private readonly int _hash = IdentityHash.Next();

    protected Value(MirType type) => Type = type;

    /// <summary>Identity, as <see cref="object.Equals(object)"/>: a number given at creation (<see cref="IdentityHash"/>).</summary>
    public sealed override int GetHashCode() => _hash;

    public sealed override bool Equals(object? obj) => ReferenceEquals(this, obj);

    public MirType Type { get; set; }

    public IReadOnlyList<OpOperand> Uses => _uses;
    internal List<OpOperand> UseList => _uses;
    public bool HasUses => _uses.Count > 0;

    /// <summary>Every operation that reads this value (an operation appears once per operand slot).</summary>
    public IEnumerable<Operation> Users => _uses.Select(u => u.Owner);

    /// <summary>Points every use of this value at <paramref name="replacement"/>.</summary>
    public void ReplaceAllUsesWith(Value replacement)
    {
        if (ReferenceEquals(replacement, this)) return;
        // Each Set takes its use out of this list: walk a snapshot, from a pool (rewrites replace values all the time).
        int count = _uses.Count;
        var snapshot = System.Buffers.ArrayPool<OpOperand>.Shared.Rent(count);
        _uses.CopyTo(snapshot);
        for (int i = 0; i < count; i++) snapshot[i].Set(replacement);
        Array.Clear(snapshot, 0, count);
        System.Buffers.ArrayPool<OpOperand>.Shared.Return(snapshot);
    }

    internal void AddUse(OpOperand use) => _uses.Add(use);
    internal void RemoveUse(OpOperand use) => _uses.Remove(use);
}

public sealed class OpResult : Value
{
    internal OpResult(Operation owner, int index, MirType type) : base(type) { Owner = owner; Index = index; }
    public Operation Owner { get; }
    public int Index { get; }
}

public sealed class BlockArgument : Value
{
    internal BlockArgument(Block owner, int index, MirType type, Location location) : base(type)
    {
        Owner = owner; Index = index; Location = location;
    }
    public Block Owner { get; }
    public int Index { get; internal set; }
    public Location Location { get; set; }
}

/// <summary>One operand slot of an operation: which value it reads.</summary>
public sealed class OpOperand
{
    internal OpOperand(Operation owner, int index, Value value)
    {
        Owner = owner; Index = index; Value = value;
        value.AddUse(this);
    }

    public Operation Owner { get; }
    public int Index { get; internal set; }
    public Value Value { get; private set; }

    public void Set(Value value)
    {
        if (ReferenceEquals(value, Value)) return;
        Value.RemoveUse(this);
        Value = value;
        value.AddUse(this);
    }

    internal void Drop() => Value.RemoveUse(this);
}
