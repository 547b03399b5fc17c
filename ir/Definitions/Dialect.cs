namespace Mopt.Ir;

/// <summary>
/// A named set of operation definitions (<c>onnx</c>, <c>tf</c>, <c>mo</c>, ...). A dialect is immutable data, like
/// the C++ that MLIR's ODS generates: consulted through a <see cref="DialectRegistry"/>. A dialect of many operators
/// may define each one when it is first asked for (<see cref="Dialect(string, string, IEnumerable{string}, Func{string, OpDefinition})"/>):
/// a run that meets ten ONNX operators builds ten definitions, not two hundred, and a command starts that much sooner.
/// </summary>
public sealed class Dialect
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly string[] _names;
    private readonly OpDefinition?[] _defined;
    private readonly Func<string, OpDefinition>? _define;

    /// <summary>A dialect of the definitions <paramref name="ops"/>, made now.</summary>
    public Dialect(string name, string summary, IEnumerable<OpDefinition> ops)
    {
        Name = name;
        Summary = summary;
        var list = ops.ToList();
        _names = new string[list.Count];
        _defined = new OpDefinition?[list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            Index(list[i].Name, i);
            _defined[i] = list[i];
        }
    }

    /// <summary>
    /// A dialect of the operations <paramref name="opNames"/>, each defined by <paramref name="define"/> on first use
    /// (it must return a definition of that name; it may run more than once for the same name when threads race).
    /// </summary>
    public Dialect(string name, string summary, IEnumerable<string> opNames, Func<string, OpDefinition> define)
    {
        Name = name;
        Summary = summary;
        _names = opNames.ToArray();
        _defined = new OpDefinition?[_names.Length];
        _define = define;
        for (int i = 0; i < _names.Length; i++) Index(_names[i], i);
    }

    private void Index(string opName, int i)
    {
        if (!opName.StartsWith(Name, StringComparison.Ordinal) || opName.Length <= Name.Length || opName[Name.Length] != '.')
            throw new ArgumentException($"{opName} is not in dialect '{Name}'");
        if (!_index.TryAdd(opName, i)) throw new ArgumentException($"{opName} is defined twice");
        _names[i] = opName;
    }

    public string Name { get; }
    public string Summary { get; }

    /// <summary>The names of the operations this dialect defines, in order.</summary>
    public IEnumerable<string> OpNames => _names.Order(StringComparer.Ordinal);

    /// <summary>Every definition, in name order (defines them all).</summary>
    public IEnumerable<OpDefinition> Ops => OpNames.Select(n => Find(n)!);

    public bool Defines(string opName) => _index.ContainsKey(opName);

    public OpDefinition? Find(string opName) => _index.TryGetValue(opName, out int i) ? FindAt(i) : null;

    /// <summary>The names of the operations this dialect defines, in the order of their indexes (<see cref="FindAt"/>).</summary>
    internal IReadOnlyList<string> NamesByIndex => _names;

    /// <summary>The definition of the operation at <paramref name="i"/> in <see cref="NamesByIndex"/>.</summary>
    internal OpDefinition FindAt(int i)
    {
        var opName = _names[i];
        if (Volatile.Read(ref _defined[i]) is { } known) return known;
        var made = _define!(opName);
        if (made.Name != opName) throw new InvalidOperationException($"dialect '{Name}' defined {made.Name} when asked for {opName}");
        return Interlocked.CompareExchange(ref _defined[i], made, null) ?? made;
    }
}
