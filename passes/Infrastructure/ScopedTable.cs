namespace Mopt.Passes;

/// <summary>
/// What is known at a point of the IR: this block's entries so far, then those of the enclosing blocks. Used to
/// merge an operation into an earlier equal one that dominates it (CSE, dedupe-constants).
/// </summary>
public sealed class ScopedTable<TKey>(ScopedTable<TKey>? parent) where TKey : notnull
{
    private readonly Dictionary<TKey, Ir.Operation> _known = new();

    public Ir.Operation? Find(TKey key) => _known.TryGetValue(key, out var op) ? op : parent?.Find(key);
    public void Add(TKey key, Ir.Operation op) => _known.TryAdd(key, op);
    public ScopedTable<TKey> Nested() => new(this);
}
