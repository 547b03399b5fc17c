using Mopt.Ir;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// What the ONNX shape rules need besides the operation itself: the module's opset, its resource blobs (constant
/// bytes), and the integer contents of small shape tensors (<see cref="GetShapeValue"/>), computed on demand.
/// One context serves one sweep over a module in program order (it is the <see cref="TypeInferenceContext"/>'s ONNX
/// state): it remembers the shape values it computed, so after changing types any other way, start a new context.
/// </summary>
public sealed class ShapeContext
{
    /// <summary>The largest constant read as integers or floats (shape operands are small; weights are not read).</summary>
    public const long MaxConstantElements = 1 << 16;

    /// <summary>The largest integer tensor whose contents are propagated through shape computations.</summary>
    public const int MaxPropagatedElements = 64;

    private readonly Dictionary<Value, ShapeValue?> _known = new();
    private int _depth;

    /// <summary>A context for a sweep over <paramref name="module"/> with mopt's standard dialects.</summary>
    public ShapeContext(MirModule module) : this(new TypeInferenceContext(module, StandardDialects.Registry)) { }

    private ShapeContext(TypeInferenceContext inference)
    {
        Inference = inference;
        Resources = inference.Module.Resources;
        Opset = OnnxOpset.Stated(inference.Module);
        inference.State(_ => this);
    }

    /// <summary>The ONNX state of <paramref name="inference"/>'s sweep, made on first use.</summary>
    public static ShapeContext Of(TypeInferenceContext inference) => inference.State(i => new ShapeContext(i));

    /// <summary>The sweep this context belongs to: what <see cref="TypeInference"/> is given.</summary>
    public TypeInferenceContext Inference { get; }

    public ResourceTable Resources { get; }

    /// <summary>The module's <c>onnx.opset</c>, or null when the module does not say (the rules then go by form, not <see cref="OnnxOpset.Default"/>).</summary>
    public long? Opset { get; }

    /// <summary>Why the last inference gave up (for <c>--debug</c> and the pass statistics).</summary>
    public string? Reason => Inference.Reason;

    /// <summary>True when the opset is known to be at least <paramref name="version"/>, or is not known.</summary>
    public bool OpsetAtLeast(int version) => Opset is not long o || o >= version;

    /// <summary>True when the opset is known to be below <paramref name="version"/>, or is not known.</summary>
    public bool OpsetBelow(int version) => Opset is not long o || o < version;

    /// <summary>True only when the opset is known and below <paramref name="version"/> (legacy semantics).</summary>
    public bool OpsetKnownBelow(int version) => Opset is long o && o < version;

    /// <summary>Records why inference gave up and returns null, so a rule can <c>return ctx.Unknown("...")</c>.</summary>
    public MirType?[]? Unknown(string reason)
    {
        Inference.Unknown(reason);
        return null;
    }

    /// <summary>The constant-like operation (its definition says so) defining <paramref name="value"/>, or null.</summary>
    public Operation? ConstantOf(Value value) => Constants.DefiningConstant(value, Inference.Dialects);

    // ---- constant operands

    /// <summary>Every element of a constant operand as integers, or null when it is not a known constant.</summary>
    public long[]? GetInts(Value value)
    {
        if (GetShapeValue(value) is { IsFullyKnown: true } sv) return sv.Elements.Select(e => e.Value).ToArray();
        return ConstantOf(value) is { } op ? ConstantValues.ReadInts(op, Inference.Dialects, Resources, MaxConstantElements) : null;
    }

    /// <summary>Every element of a constant operand as doubles (integers are converted), or null.</summary>
    public double[]? GetFloats(Value value)
    {
        if (ConstantOf(value) is { } op) return ConstantValues.ReadFloats(op, Inference.Dialects, Resources, MaxConstantElements);
        return GetInts(value)?.Select(v => (double)v).ToArray();
    }

    /// <summary>
    /// The contents of a small integer tensor (rank 0 or 1) as far as they are known: constants, <c>Shape</c> of
    /// a ranked tensor (a dynamic dim becomes a symbolic element), and Gather/Concat/Slice/Unsqueeze/Squeeze/
    /// Reshape/Cast/Identity/arithmetic on those. Null when nothing is known, not even the length.
    /// </summary>
    public ShapeValue? GetShapeValue(Value value)
    {
        if (_known.TryGetValue(value, out var cached)) return cached;
        if (_depth > 128) return null;
        _depth++;
        try
        {
            var result = value is OpResult r ? ShapeValuePropagation.Evaluate(r, this) : null;
            _known[value] = result;
            return result;
        }
        finally { _depth--; }
    }
}

/// <summary>
/// One element of a propagated shape tensor: an exact number (<see cref="Exact"/>), or "dim <see cref="Index"/> of
/// <see cref="Source"/>" (a dynamic dim read by <c>Shape</c>), or nothing known.
/// </summary>
public readonly record struct ShapeElement(bool Exact, long Value, Value? Source, int Index)
{
    public static readonly ShapeElement Unknown = new(false, 0, null, -1);
    public static ShapeElement Known(long value) => new(true, value, null, -1);
    public static ShapeElement DimOf(Value source, int index) => new(false, 0, source, index);

    public bool IsSymbol => !Exact && Source is not null;

    public override string ToString() =>
        Exact ? Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Source is null ? "?" : $"dim{Index}";
}

/// <summary>The contents of a rank-0 or rank-1 integer tensor, element by element.</summary>
public sealed record ShapeValue(IReadOnlyList<ShapeElement> Elements, bool IsScalar)
{
    public bool IsFullyKnown => Elements.All(e => e.Exact);
    public int Count => Elements.Count;

    public static ShapeValue Of(IEnumerable<long> values, bool isScalar = false) =>
        new(values.Select(ShapeElement.Known).ToArray(), isScalar);
}
