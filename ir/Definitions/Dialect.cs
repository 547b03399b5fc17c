using System.Collections.Frozen;

namespace Mopt.Ir;

/// <summary>
/// A named set of operation definitions (<c>onnx</c>, <c>tf</c>, <c>mo</c>, ...). A dialect is immutable data, like
/// the C++ that MLIR's ODS generates: it is built once and consulted through a <see cref="DialectRegistry"/>.
/// </summary>
public sealed class Dialect
{
    private readonly FrozenDictionary<string, OpDefinition> _ops;

    public Dialect(string name, string summary, IEnumerable<OpDefinition> ops)
    {
        Name = name;
        Summary = summary;
        var table = new Dictionary<string, OpDefinition>(StringComparer.Ordinal);
        foreach (var op in ops)
        {
            if (op.Dialect != name) throw new ArgumentException($"{op.Name} is not in dialect '{name}'");
            if (!table.TryAdd(op.Name, op)) throw new ArgumentException($"{op.Name} is defined twice");
        }
        _ops = table.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public string Name { get; }
    public string Summary { get; }
    public IEnumerable<OpDefinition> Ops => _ops.Values.OrderBy(o => o.Name, StringComparer.Ordinal);
    public OpDefinition? Find(string opName) => _ops.GetValueOrDefault(opName);
}
