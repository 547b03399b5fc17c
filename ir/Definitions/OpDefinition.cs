using System.Collections.Immutable;

namespace Mopt.Ir;

/// <summary>How many values an operand or result slot takes.</summary>
public enum Arity
{
    /// <summary>Exactly one value.</summary>
    Single,
    /// <summary>Zero or one value (ONNX: an empty name, <c>onnx.NoValue</c> in the IR).</summary>
    Optional,
    /// <summary>Any number of values (ONNX: Concat's inputs); only the last slot may be variadic.</summary>
    Variadic,
}

/// <summary>One operand or result slot of an operation: its name in the source framework's specification.</summary>
public sealed record SlotDefinition(string Name, Arity Arity = Arity.Single, string TypeConstraint = "");

/// <summary>The kind of value an attribute holds, which <see cref="AttrReader"/> checks.</summary>
public enum AttrKind
{
    Int, Float, String, Ints, Floats, Strings, Tensor, Tensors, Graph, Graphs, Type, Types, SparseTensor, Any,
}

/// <summary>
/// One attribute an operation takes: its name, kind, whether it must be given, its default as the specification
/// writes it, and the first and last operator-set versions that have it (null: since the first, still there).
/// <paramref name="FormerKind"/> is the kind older versions gave it when that differs (Cast-1's <c>to</c> was a string).
/// </summary>
public sealed record AttrDefinition(string Name, AttrKind Kind, bool Required = false, string? Default = null, int? Since = null, int? Until = null,
    AttrKind? FormerKind = null)
{
    /// <summary>True when the operation's version <paramref name="version"/> has this attribute.</summary>
    public bool InVersion(int version) => (Since is null || version >= Since) && (Until is null || version <= Until);
}

/// <summary>
/// An operation's definition, as MLIR's ODS declares one: its full name, operands, results and attributes, the
/// versions of the source framework's operator set it covers, its traits, and the interfaces it implements (the
/// output-channel axis of its weight, its constant value, ...). Dialects declare them; generic passes ask them.
/// </summary>
public sealed record OpDefinition(string Name)
{
    public string Summary { get; init; } = "";
    public ImmutableArray<SlotDefinition> Operands
    {
        get => _operands;
        // The counts the slots allow, worked out once (the verifier asks them of every op a tool loads).
        init => (_operands, _slotCounts) = (value, CountRange.Of(value));
    }
    public ImmutableArray<SlotDefinition> Results { get; init; } = [];

    private readonly ImmutableArray<SlotDefinition> _operands = [];
    private readonly CountRange _slotCounts = NoOperands;
    private readonly CountRange? _operandCounts;
    private static readonly CountRange NoOperands = new(0, 0);

    /// <summary>
    /// How many operands some version of this op takes (ONNX: the union over its versions, so Slice-1's one operand
    /// and Slice-10's three both fit); derived from <see cref="Operands"/> unless given.
    /// </summary>
    public CountRange OperandCounts { get => _operandCounts ?? _slotCounts; init => _operandCounts = value; }
    public ImmutableArray<AttrDefinition> Attributes { get; init; } = [];
    /// <summary>The operator-set versions that (re)defined this operation, ascending; empty for an unversioned op.</summary>
    public ImmutableArray<int> Versions { get; init; } = [];
    public OpTraits Traits { get; init; }
    /// <summary>Removed from the specification (ONNX's Upsample, Scatter): still read, never written by a pass.</summary>
    public bool Deprecated { get; init; }

    // A few per op at most: a short list beats a dictionary to build and to search.
    private ImmutableArray<KeyValuePair<Type, object>> Interfaces { get; init; } = [];

    public string Dialect => Name.IndexOf('.') is var i and > 0 ? Name[..i] : "";
    public string OpType => Name.IndexOf('.') is var i and > 0 ? Name[(i + 1)..] : Name;

    public bool Has(OpTraits traits) => (Traits & traits) == traits;

    /// <summary>This definition with <paramref name="traits"/> added.</summary>
    public OpDefinition WithTraits(OpTraits traits) => this with { Traits = Traits | traits };

    /// <summary>This definition implementing <typeparamref name="T"/> by <paramref name="implementation"/>.</summary>
    public OpDefinition Implement<T>(T implementation) where T : class
    {
        var entry = new KeyValuePair<Type, object>(typeof(T), implementation);
        int at = IndexOf(typeof(T));
        return this with { Interfaces = at < 0 ? Interfaces.Add(entry) : Interfaces.SetItem(at, entry) };
    }

    /// <summary>The implementation of interface <typeparamref name="T"/>, or null when the op does not implement it.</summary>
    public T? Interface<T>() where T : class => IndexOf(typeof(T)) is var i and >= 0 ? (T)Interfaces[i].Value : null;

    public IEnumerable<Type> InterfaceTypes => Interfaces.Select(i => i.Key);

    private int IndexOf(Type type)
    {
        for (int i = 0; i < Interfaces.Length; i++)
            if (Interfaces[i].Key == type) return i;
        return -1;
    }

    public AttrDefinition? Attribute(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) return a;
        return null;
    }

    /// <summary>The version of this op in effect at operator set <paramref name="opset"/>: the last one not above it, or null.</summary>
    public int? VersionAt(long opset)
    {
        int? found = null;
        foreach (var v in Versions) if (v <= opset) found = v;
        return found;
    }
}
