using Mopt.Ir;

namespace Mopt.Passes.ConstantFolding;

/// <summary>
/// Why an operation was not evaluated. <see cref="TryFallback"/>: the native evaluator does not cover this case
/// (a type, an attribute form), but the operation itself is fine, so the fallback evaluator may try it. Without
/// it the case is one no evaluator should run (an integer division by zero, a result over the size limit).
/// </summary>
public sealed class FoldException(string reason, bool tryFallback = false) : Exception(reason)
{
    public bool TryFallback { get; } = tryFallback;

    /// <summary>The native evaluator does not handle this; the fallback may.</summary>
    public static FoldException Unsupported(string reason) => new(reason, tryFallback: true);
}

/// <summary>One operation to evaluate: its constant inputs (null for an absent optional one) and attributes.</summary>
public sealed class FoldRequest(Operation op, IReadOnlyList<ConstantTensor?> inputs, MirModule module, long maxElements)
{
    public Operation Op => op;
    public MirModule Module => module;
    public int InputCount => inputs.Count;
    public long MaxElements => maxElements;

    public ConstantTensor Input(int i) => Optional(i) ?? throw new FoldException($"input #{i} is missing");
    public ConstantTensor? Optional(int i) => i < inputs.Count ? inputs[i] : null;
    public IEnumerable<ConstantTensor> PresentInputs => inputs.OfType<ConstantTensor>();

    /// <summary>The declared type of result <paramref name="i"/> (a tensor, possibly not static).</summary>
    public TensorType? DeclaredResult(int i) => op.Results[i].Type as TensorType;

    public long Int(string name, long defaultValue) => op.GetAttr(name) switch
    {
        null => defaultValue,
        IntegerAttr i => i.Value,
        BoolAttr b => b.Value ? 1 : 0,
        var a => throw FoldException.Unsupported($"attribute '{name}' is {a.GetType().Name}, not an integer"),
    };

    public long[]? Ints(string name) => op.GetAttr(name) switch
    {
        null => null,
        ArrayAttr a => a.Elements.Select(e => e is IntegerAttr i ? i.Value
            : throw FoldException.Unsupported($"attribute '{name}' holds a non-integer")).ToArray(),
        DenseArrayAttr d when !d.Type.IsFloat => d.Ints.ToArray(),
        var a => throw FoldException.Unsupported($"attribute '{name}' is {a.GetType().Name}, not a list of integers"),
    };

    /// <summary>Refuses a result of more than max-size elements before it is computed.</summary>
    public void CheckSize(long elements)
    {
        if (elements > maxElements)
            throw new FoldException($"the result would have {elements} elements, more than max-size={maxElements}");
    }

    /// <summary>A result tensor of <paramref name="element"/> and <paramref name="shape"/> with zeroed bytes.</summary>
    public (TensorType Type, byte[] Bytes) Allocate(ElementType element, IReadOnlyList<long> shape)
    {
        long n = Tensors.Count(shape);
        CheckSize(n);
        long bytes = n * element.ByteSize;
        if (bytes > Array.MaxLength) throw new FoldException($"the result would take {bytes} bytes, too many to hold");
        return (new TensorType(element, shape.ToArray()), new byte[bytes]);
    }
}
