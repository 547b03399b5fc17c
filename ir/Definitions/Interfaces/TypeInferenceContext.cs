namespace Mopt.Ir;

/// <summary>
/// What a result-type rule reads besides the operation: the module (attributes, resource blobs), the registry (which
/// operations are constants) and what a dialect's rules computed earlier in the same sweep (<see cref="State{T}"/>,
/// e.g. the contents of shape tensors). One context serves one sweep over a module in program order; after changing
/// types any other way, start a new one.
/// </summary>
public sealed class TypeInferenceContext(MirModule module, DialectRegistry dialects)
{
    private readonly Dictionary<Type, object> _state = new();

    public MirModule Module => module;
    public DialectRegistry Dialects => dialects;

    /// <summary>Why the last inference gave up (for <c>--debug</c> and the pass statistics).</summary>
    public string? Reason { get; private set; }

    internal void ClearReason() => Reason = null;

    /// <summary>Records why inference gave up and returns null, so a rule can <c>return context.Unknown("...")</c>.</summary>
    public IReadOnlyList<MirType?>? Unknown(string reason)
    {
        Reason = reason;
        return null;
    }

    /// <summary>The dialect state of type <typeparamref name="T"/> for this sweep, made by <paramref name="create"/> on first use.</summary>
    public T State<T>(Func<TypeInferenceContext, T> create) where T : class
    {
        if (_state.TryGetValue(typeof(T), out var existing)) return (T)existing;
        var made = create(this);
        // create may have registered the instance itself (a state built around this context): keep that one.
        return (T)(_state.TryAdd(typeof(T), made) ? made : _state[typeof(T)]);
    }
}
