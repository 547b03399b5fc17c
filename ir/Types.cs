namespace Mopt.Ir;

/// <summary>A type in the IR. Types compare by their printed form, so equal text means equal type.</summary>
public abstract class MirType : IEquatable<MirType>
{
    private string? _text;

    /// <summary>The type as it is printed in .mir text.</summary>
    public string Text => _text ??= Format();

    protected abstract string Format();

    // Without making text where the answer is known: two tensor types compare by their parts, which is what their text
    // says (a dynamic dim prints as '?' whatever its negative value), and types of two different kinds print differently
    // (tensor<...>, (...) -> ..., an element type's name) unless one is opaque, which may spell anything. A type that
    // inference creates is compared once or twice (`v.Type == ElementType.None` asks it of every shape rule's inputs).
    public bool Equals(MirType? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (this is TensorType a) return other is TensorType b && a.SameShapeAndElement(b);
        // An opaque type is a dialect type (spelled '!dialect...', as the parser and every frontend make them): never a tensor's text.
        if (other is TensorType) return false;
        if (GetType() != other.GetType() && this is not OpaqueType && other is not OpaqueType) return false;
        return other.Text == Text;
    }
    public override bool Equals(object? obj) => obj is MirType t && Equals(t);
    // A tensor type hashes its parts (no text to make: the exporter's type tables and cse's keys ask of every result).
    public override int GetHashCode() => this is TensorType t ? t.PartsHash() : Text.GetHashCode(StringComparison.Ordinal);
    public override string ToString() => Text;
    public static bool operator ==(MirType? a, MirType? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(MirType? a, MirType? b) => !(a == b);
}

public enum ElementKind { Float, SignlessInt, UnsignedInt, Index, None }

/// <summary>A scalar type: f16 bf16 f32 f64 i1 i4 i8 i16 i32 i64 ui4 ui8 ui16 ui32 ui64, index, none.</summary>
public sealed class ElementType : MirType
{
    public string Name { get; }
    public ElementKind Kind { get; }
    /// <summary>Width in bits; 0 for index and none.</summary>
    public int BitWidth { get; }

    private ElementType(string name, ElementKind kind, int bits)
    {
        Name = name;
        Kind = kind;
        BitWidth = bits;
        UnrankedTensor = new TensorType(this, null);
    }

    /// <summary><c>tensor&lt;*x...&gt;</c> of this type: one object, as types are values (every lowered op starts with one).</summary>
    internal TensorType UnrankedTensor { get; }

    /// <summary>
    /// Bytes one element takes in a blob or dense hex (i1 takes a whole byte, as in ONNX); 1 for i4/ui4, whose
    /// elements are packed two to a byte (<see cref="IsPacked"/>): a tensor's size is <see cref="TensorType.ByteSize"/>.
    /// </summary>
    public int ByteSize => Kind is ElementKind.Index ? 8 : Math.Max(1, BitWidth / 8);
    /// <summary>
    /// i4 and ui4: two elements to a byte, the first in the low nibble (as ONNX's raw_data packs them), in blobs and in
    /// a dense attribute's bytes alike; per-element code must read them with <see cref="ElementCodec.ReadPacked"/>.
    /// </summary>
    public bool IsPacked => BitWidth == 4;
    public bool IsFloat => Kind == ElementKind.Float;
    public bool IsInteger => Kind is ElementKind.SignlessInt or ElementKind.UnsignedInt or ElementKind.Index;
    public bool IsBool => Kind == ElementKind.SignlessInt && BitWidth == 1;

    public static readonly ElementType F16 = new("f16", ElementKind.Float, 16);
    public static readonly ElementType BF16 = new("bf16", ElementKind.Float, 16);
    public static readonly ElementType F32 = new("f32", ElementKind.Float, 32);
    public static readonly ElementType F64 = new("f64", ElementKind.Float, 64);
    public static readonly ElementType I1 = new("i1", ElementKind.SignlessInt, 1);
    public static readonly ElementType I4 = new("i4", ElementKind.SignlessInt, 4);
    public static readonly ElementType I8 = new("i8", ElementKind.SignlessInt, 8);
    public static readonly ElementType I16 = new("i16", ElementKind.SignlessInt, 16);
    public static readonly ElementType I32 = new("i32", ElementKind.SignlessInt, 32);
    public static readonly ElementType I64 = new("i64", ElementKind.SignlessInt, 64);
    public static readonly ElementType UI4 = new("ui4", ElementKind.UnsignedInt, 4);
    public static readonly ElementType UI8 = new("ui8", ElementKind.UnsignedInt, 8);
    public static readonly ElementType UI16 = new("ui16", ElementKind.UnsignedInt, 16);
    public static readonly ElementType UI32 = new("ui32", ElementKind.UnsignedInt, 32);
    public static readonly ElementType UI64 = new("ui64", ElementKind.UnsignedInt, 64);
    public static readonly ElementType Index = new("index", ElementKind.Index, 0);
    public static readonly ElementType None = new("none", ElementKind.None, 0);

    private static readonly Dictionary<string, ElementType> ByName = new[]
    {
        F16, BF16, F32, F64, I1, I4, I8, I16, I32, I64, UI4, UI8, UI16, UI32, UI64, Index, None,
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The list users see in "unknown element type" errors.</summary>
    public static string KnownNames => string.Join(" ", ByName.Keys);

    public static ElementType? TryGet(string name) => ByName.GetValueOrDefault(name);

    protected override string Format() => Name;
}

/// <summary><c>tensor&lt;1x?x3xf32&gt;</c>: a ranked shape (-1 for a dynamic dim) or unranked (<c>Shape</c> null).</summary>
public sealed class TensorType : MirType
{
    public const long Dynamic = -1;

    public ElementType Element { get; }
    public IReadOnlyList<long>? Shape => _dims;
    // The shape's own copy, read directly by the size queries the verifier asks of every constant after every pass.
    private readonly long[]? _dims;

    public TensorType(ElementType element, IReadOnlyList<long>? shape)
    {
        Element = element;
        _dims = shape?.ToArray();
    }

    public static TensorType Unranked(ElementType element) => element.UnrankedTensor;

    /// <summary>Whether the two print the same: the same element type (one object per name) and dims, dynamic ones alike.</summary>
    internal bool SameShapeAndElement(TensorType other)
    {
        if (!ReferenceEquals(Element, other.Element)) return false;
        if (_dims is null || other._dims is null) return _dims is null && other._dims is null;
        if (_dims.Length != other._dims.Length) return false;
        for (int i = 0; i < _dims.Length; i++)
            if (_dims[i] != other._dims[i] && (_dims[i] >= 0 || other._dims[i] >= 0)) return false;
        return true;
    }

    /// <summary>A hash of what <see cref="SameShapeAndElement"/> compares (every dynamic dim alike).</summary>
    internal int PartsHash()
    {
        var h = new HashCode();
        h.Add(Element.Name);
        if (_dims is null) return h.ToHashCode();
        h.Add(_dims.Length);
        foreach (var d in _dims) h.Add(d < 0 ? -1 : d);
        return h.ToHashCode();
    }

    /// <summary>The same shape (or none) with another element type.</summary>
    public TensorType WithElement(ElementType element) => new(element, Shape);

    public bool IsRanked => Shape is not null;
    public int Rank => Shape?.Count ?? throw new InvalidOperationException($"{Text} has no rank");
    public bool HasStaticShape => _dims is not null && !_dims.AsSpan().ContainsAnyInRange(long.MinValue, -1);

    /// <summary>Number of elements, or null when a dimension is not known.</summary>
    public long? ElementCount
    {
        get
        {
            // no predicate delegate (the verifier asks it of every constant); dynamic dims are looked for first, as a
            // product that overflows before a dynamic dim is unknown, not an error
            if (!HasStaticShape) return null;
            long n = 1;
            foreach (var d in _dims!) n = checked(n * d);
            return n;
        }
    }

    /// <summary>Bytes the tensor's data takes in a blob, or null when the shape is not static (i4/ui4: two elements a byte, rounded up).</summary>
    public long? ByteSize => ElementCount is long n ? Element.IsPacked ? (n + 1) / 2 : checked(n * Element.ByteSize) : null;

    protected override string Format()
    {
        if (Shape is null) return $"tensor<*x{Element.Name}>";
        var sb = new System.Text.StringBuilder("tensor<");
        foreach (var d in Shape) sb.Append(d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('x');
        return sb.Append(Element.Name).Append('>').ToString();
    }
}

/// <summary><c>(T, T) -> (T)</c>, the signature of an operation or function.</summary>
public sealed class FunctionType : MirType
{
    public IReadOnlyList<MirType> Inputs { get; }
    public IReadOnlyList<MirType> Results { get; }

    public FunctionType(IReadOnlyList<MirType> inputs, IReadOnlyList<MirType> results)
    {
        Inputs = inputs.ToArray();
        Results = results.ToArray();
    }

    protected override string Format()
    {
        string ins = "(" + string.Join(", ", Inputs.Select(t => t.Text)) + ")";
        string outs = Results.Count == 1 && Results[0] is not FunctionType
            ? Results[0].Text
            : "(" + string.Join(", ", Results.Select(t => t.Text)) + ")";
        return ins + " -> " + outs;
    }
}

/// <summary>A dialect type kept as written, such as <c>!onnx.Seq&lt;tensor&lt;f32&gt;&gt;</c>.</summary>
public sealed class OpaqueType : MirType
{
    public string Spelling { get; }
    public OpaqueType(string spelling) => Spelling = spelling;
    protected override string Format() => Spelling;
}
