namespace Mopt.Ir;

/// <summary>
/// The dialects a tool or pass knows (MLIR's DialectRegistry): where an operation's definition is looked up. An
/// operation whose dialect is not registered, or that its dialect does not define, has no definition, and generic
/// passes treat it as having effects (kept, never merged or folded).
/// </summary>
public sealed class DialectRegistry
{
    private readonly Dictionary<string, Dialect> _dialects;

    public DialectRegistry(IEnumerable<Dialect> dialects, IResultNames? resultNames = null)
    {
        // A plain dictionary: a frozen one costs more to build than the few look-ups of a short run save.
        _dialects = dialects.ToDictionary(d => d.Name, StringComparer.Ordinal);
        ResultNames = resultNames;
        IsResultNamesAttribute = resultNames is null ? null : resultNames.IsResultNames;
    }

    /// <summary>How these dialects name produced tensors, which the rewriter carries over a replacement; null: not at all.</summary>
    public IResultNames? ResultNames { get; }

    /// <summary><see cref="IResultNames.IsResultNames"/> as one delegate (an op changed in place keeps that attribute): null without result names.</summary>
    public Func<string, bool>? IsResultNamesAttribute { get; }

    /// <summary>No dialects: every operation is unknown.</summary>
    public static DialectRegistry Empty { get; } = new([]);

    public IEnumerable<Dialect> Dialects => _dialects.Values.OrderBy(d => d.Name, StringComparer.Ordinal);

    public Dialect? FindDialect(string name) => _dialects.GetValueOrDefault(name);

    /// <summary>The definition of the operation named <paramref name="opName"/> (<c>onnx.Conv</c>), or null.</summary>
    public OpDefinition? Find(string opName) =>
        // Asked for every op a run makes (then kept on the op): one look-up of the whole name, not the dialect's then the op's.
        OpIndex().TryGetValue(opName, out var at) ? at.Dialect.FindAt(at.Index) : null;

    /// <summary>Every op name of every dialect, with its dialect and its index there; made at the first look-up.</summary>
    private Dictionary<string, (Dialect Dialect, int Index)> OpIndex()
    {
        if (Volatile.Read(ref _opIndex) is { } index) return index;
        index = new Dictionary<string, (Dialect, int)>(_dialects.Values.Sum(d => d.NamesByIndex.Count), StringComparer.Ordinal);
        foreach (var dialect in _dialects.Values)
        {
            var names = dialect.NamesByIndex;
            for (int i = 0; i < names.Count; i++) index[names[i]] = (dialect, i);
        }
        return Interlocked.CompareExchange(ref _opIndex, index, null) ?? index;
    }

    private Dictionary<string, (Dialect Dialect, int Index)>? _opIndex;

    /// <summary>The definition of <paramref name="op"/>, kept on the op for the next question (a registry's answers do not change).</summary>
    public OpDefinition? Find(Operation op)
    {
        var name = op.Name;
        if (op.FoundDefinition is { } found && ReferenceEquals(found.Registry, this) && ReferenceEquals(found.Name, name)) return found.Definition;
        var definition = Find(name);
        op.FoundDefinition = new FoundDefinition(this, name, definition);
        return definition;
    }

    public OpTraits TraitsOf(Operation op) => Find(op)?.Traits ?? OpTraits.None;

    /// <summary>True when <paramref name="op"/> has every trait in <paramref name="traits"/>.</summary>
    public bool Has(Operation op, OpTraits traits) => (TraitsOf(op) & traits) == traits;

    /// <summary>Interface <typeparamref name="T"/> of <paramref name="op"/>'s definition, or null.</summary>
    public T? Interface<T>(Operation op) where T : class => Find(op)?.Interface<T>();

    /// <summary>
    /// True when <paramref name="op"/> may be erased once nothing reads it: its definition says pure or merely random,
    /// and every operation in its regions may go too, or ends its block (MLIR's recursive memory effects).
    /// </summary>
    public bool IsRemovableWhenUnused(Operation op) => TraitsOf(op).IsRemovableWhenUnused() && RegionsAreRemovable(op);

    /// <summary>The first operation in <paramref name="op"/>'s regions that keeps it alive (has effects, or no definition), or null.</summary>
    public Operation? FirstEffectInRegions(Operation op)
    {
        foreach (var region in op.Regions)
            foreach (var block in region.Blocks)
                foreach (var inner in block.Operations)
                {
                    var traits = TraitsOf(inner);
                    bool fine = (traits.HasFlag(OpTraits.Terminator) && !traits.HasFlag(OpTraits.HasEffects)) || traits.IsRemovableWhenUnused();
                    if (!fine) return inner;
                    if (FirstEffectInRegions(inner) is { } deeper) return deeper;
                }
        return null;
    }

    private bool RegionsAreRemovable(Operation op) => op.RegionCount == 0 || FirstEffectInRegions(op) is null;

    public bool IsPure(Operation op) => TraitsOf(op).IsPure();
}
