using System.Collections.Frozen;

namespace Mopt.Ir;

/// <summary>
/// The dialects a tool or pass knows (MLIR's DialectRegistry): where an operation's definition is looked up. An
/// operation whose dialect is not registered, or that its dialect does not define, has no definition, and generic
/// passes treat it as having effects (kept, never merged or folded).
/// </summary>
public sealed class DialectRegistry
{
    private readonly FrozenDictionary<string, Dialect> _dialects;

    public DialectRegistry(IEnumerable<Dialect> dialects, IResultNames? resultNames = null)
    {
        _dialects = dialects.ToFrozenDictionary(d => d.Name, StringComparer.Ordinal);
        ResultNames = resultNames;
    }

    /// <summary>How these dialects name produced tensors, which the rewriter carries over a replacement; null: not at all.</summary>
    public IResultNames? ResultNames { get; }

    /// <summary>No dialects: every operation is unknown.</summary>
    public static DialectRegistry Empty { get; } = new([]);

    public IEnumerable<Dialect> Dialects => _dialects.Values.OrderBy(d => d.Name, StringComparer.Ordinal);

    public Dialect? FindDialect(string name) => _dialects.GetValueOrDefault(name);

    /// <summary>The definition of the operation named <paramref name="opName"/> (<c>onnx.Conv</c>), or null.</summary>
    public OpDefinition? Find(string opName)
    {
        int dot = opName.IndexOf('.');
        return dot > 0 && _dialects.TryGetValue(opName[..dot], out var d) ? d.Find(opName) : null;
    }

    public OpDefinition? Find(Operation op) => Find(op.Name);

    public OpTraits TraitsOf(Operation op) => Find(op.Name)?.Traits ?? OpTraits.None;

    /// <summary>True when <paramref name="op"/> has every trait in <paramref name="traits"/>.</summary>
    public bool Has(Operation op, OpTraits traits) => (TraitsOf(op) & traits) == traits;

    /// <summary>Interface <typeparamref name="T"/> of <paramref name="op"/>'s definition, or null.</summary>
    public T? Interface<T>(Operation op) where T : class => Find(op.Name)?.Interface<T>();

    /// <summary>True when <paramref name="op"/> may be erased once nothing reads it (known pure or merely random, no regions with effects).</summary>
    public bool IsRemovableWhenUnused(Operation op) => TraitsOf(op).IsRemovableWhenUnused();

    public bool IsPure(Operation op) => TraitsOf(op).IsPure();
}
