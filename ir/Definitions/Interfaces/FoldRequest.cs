namespace Mopt.Ir;

/// <summary>
/// One operation to fold (MLIR's FoldAdaptor): the operation, which of its operands are constant (their values read
/// on demand through <see cref="IConstantLike"/>), absent (typed <c>none</c>: an omitted optional input) or neither,
/// the module (resource blobs) and the largest result, in elements, worth materializing.
/// </summary>
public sealed class FoldRequest
{
    private enum OperandKind { Absent, Constant, Variable }

    private readonly OperandKind[] _kinds;
    private readonly Attr?[] _attrs;
    private readonly ConstantTensor?[] _values;

    public FoldRequest(Operation op, MirModule module, DialectRegistry dialects, long maxElements)
    {
        Op = op;
        Module = module;
        MaxElements = maxElements;
        int n = op.OperandCount;
        _kinds = new OperandKind[n];
        _attrs = new Attr?[n];
        _values = new ConstantTensor?[n];
        for (int i = 0; i < n; i++)
        {
            var v = op.GetOperand(i);
            if (v.Type == ElementType.None) { _kinds[i] = OperandKind.Absent; continue; }
            _attrs[i] = ConstantAttr(v, dialects);
            _kinds[i] = _attrs[i] is null ? OperandKind.Variable : OperandKind.Constant;
        }
    }

    /// <summary>What <see cref="AllConstant"/> of a request for <paramref name="op"/> would say, without making one.</summary>
    public static bool AllOperandsConstant(Operation op, DialectRegistry dialects)
    {
        for (int i = 0; i < op.OperandCount; i++)
            if (op.GetOperand(i) is var v && v.Type != ElementType.None && ConstantAttr(v, dialects) is null) return false;
        return true;
    }

    private static Attr? ConstantAttr(Value v, DialectRegistry dialects) =>
        v is OpResult { Owner: var producer } ? dialects.Interface<IConstantLike>(producer)?.ValueAttribute(producer) : null;

    private FoldRequest(FoldRequest from, int index, ConstantTensor value)
    {
        Op = from.Op;
        Module = from.Module;
        MaxElements = from.MaxElements;
        _kinds = (OperandKind[])from._kinds.Clone();
        _attrs = (Attr?[])from._attrs.Clone();
        _values = (ConstantTensor?[])from._values.Clone();
        _kinds[index] = OperandKind.Constant;
        _values[index] = value;
    }

    public Operation Op { get; }
    public MirModule Module { get; }
    public long MaxElements { get; }
    public int InputCount => _kinds.Length;

    /// <summary>Why the folder kept the operation (<see cref="Keep"/>), for <c>--debug</c>.</summary>
    public string? KeptBecause { get; private set; }

    /// <summary>True when every operand is constant or absent: a fallback evaluator could run the operation.</summary>
    public bool AllConstant => !_kinds.Contains(OperandKind.Variable);

    /// <summary>True when operand <paramref name="i"/> is present and constant.</summary>
    public bool IsConstant(int i) => i < _kinds.Length && _kinds[i] == OperandKind.Constant;

    /// <summary>True when operand <paramref name="i"/> is omitted (or beyond the operands given).</summary>
    public bool IsAbsent(int i) => i >= _kinds.Length || _kinds[i] == OperandKind.Absent;

    /// <summary>The value of operand <paramref name="i"/>; a <see cref="FoldException"/> when it is absent or not constant.</summary>
    public ConstantTensor Input(int i) => Optional(i) ?? throw new FoldException($"input #{i} is missing");

    /// <summary>The value of operand <paramref name="i"/>, or null when it is absent; a <see cref="FoldException"/> when it is not constant or cannot be read.</summary>
    public ConstantTensor? Optional(int i)
    {
        if (IsAbsent(i)) return null;
        if (_kinds[i] == OperandKind.Variable) throw new FoldException($"input #{i} is not constant");
        return _values[i] ??= Read(i);
    }

    /// <summary>The values of the operands that are present, in order.</summary>
    public IEnumerable<ConstantTensor> PresentInputs
    {
        get
        {
            for (int i = 0; i < _kinds.Length; i++)
                if (Optional(i) is { } t) yield return t;
        }
    }

    /// <summary>This request with operand <paramref name="index"/> taken to be <paramref name="value"/> (evaluating on stand-in values).</summary>
    public FoldRequest WithInput(int index, ConstantTensor value) => new(this, index, value);

    /// <summary>Records why the operation is kept and returns null, so a folder can <c>return request.Keep("...")</c>.</summary>
    public IReadOnlyList<ConstantTensor>? Keep(string reason)
    {
        KeptBecause = reason;
        return null;
    }

    /// <summary>The declared type of result <paramref name="i"/> (a tensor, possibly not static).</summary>
    public TensorType? DeclaredResult(int i) => Op.Results[i].Type as TensorType;

    /// <summary>An integer attribute through the one attribute reader: malformed is an error naming the op.</summary>
    public long Int(string name, long defaultValue) => Op.ReadInt(name, defaultValue);

    public long[]? Ints(string name) => Op.ReadInts(name);

    /// <summary>Refuses a result of more than max-size elements before it is computed.</summary>
    public void CheckSize(long elements)
    {
        if (elements > MaxElements)
            throw new FoldException($"the result would have {elements} elements, more than max-size={MaxElements}");
    }

    /// <summary>A result tensor of <paramref name="element"/> and <paramref name="shape"/> with zeroed bytes.</summary>
    public (TensorType Type, byte[] Bytes) Allocate(ElementType element, IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (var d in shape) n = checked(n * d);
        CheckSize(n);
        long bytes = n * element.ByteSize;
        if (bytes > Array.MaxLength) throw new FoldException($"the result would take {bytes} bytes, too many to hold");
        return (new TensorType(element, shape.ToArray()), new byte[bytes]);
    }

    /// <summary>A constant operand's bytes, in place for a blob, a splat expanded.</summary>
    private ConstantTensor Read(int i)
    {
        var type = _attrs[i] switch { DenseElementsAttr d => d.Type, DenseResourceAttr d => d.Type, _ => null };
        if (type?.ByteSize is not long size || size > Array.MaxLength)
            throw new FoldException($"input #{i} ({type?.Text}) is too large to read");
        return ConstantTensor.TryRead(_attrs[i], Module.Resources)
            ?? throw new FoldException($"the bytes of input #{i} are not available (elided or missing blob)");
    }
}
