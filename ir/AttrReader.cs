namespace Mopt.Ir;

/// <summary>
/// Reads an operation's attributes as typed values, with one rule: an absent attribute is null (the caller picks
/// the specification's default), and a present one of the wrong kind is a <see cref="MirException"/> naming the
/// operation, its location and the attribute, never a silent default.
/// </summary>
public static class AttrReader
{
    /// <summary>An integer attribute (<c>3 : i64</c>; a bool reads as 0 or 1), or null when absent.</summary>
    public static long? ReadInt(this Operation op, string name) => op.GetAttr(name) switch
    {
        null => null,
        IntegerAttr i => i.Value,
        BoolAttr b => b.Value ? 1 : 0,
        var other => throw Malformed(op, name, "an integer", other),
    };

    public static long ReadInt(this Operation op, string name, long defaultValue) => op.ReadInt(name) ?? defaultValue;

    /// <summary>A float attribute (an integer reads as its value), or null when absent.</summary>
    public static double? ReadFloat(this Operation op, string name) => op.GetAttr(name) switch
    {
        null => null,
        FloatAttr f => f.Value,
        IntegerAttr i => i.Value,
        var other => throw Malformed(op, name, "a float", other),
    };

    public static double ReadFloat(this Operation op, string name, double defaultValue) => op.ReadFloat(name) ?? defaultValue;

    public static string? ReadString(this Operation op, string name) => op.GetAttr(name) switch
    {
        null => null,
        StringAttr s => s.Value,
        var other => throw Malformed(op, name, "a string", other),
    };

    public static string ReadString(this Operation op, string name, string defaultValue) => op.ReadString(name) ?? defaultValue;

    /// <summary>An integer list (<c>[1, 2]</c> or <c>array&lt;i64: 1, 2&gt;</c>), or null when absent.</summary>
    public static long[]? ReadInts(this Operation op, string name)
    {
        switch (op.GetAttr(name))
        {
            case null: return null;
            case DenseArrayAttr d when !d.Type.IsFloat: return d.Ints.ToArray();
            case ArrayAttr a:
                var result = new long[a.Elements.Count];
                for (int i = 0; i < result.Length; i++)
                    result[i] = a.Elements[i] is IntegerAttr v ? v.Value
                        : throw Malformed(op, name, "a list of integers", a, $"element #{i} is {Describe(a.Elements[i])}");
                return result;
            case var other: throw Malformed(op, name, "a list of integers", other);
        }
    }

    /// <summary>A float list (<c>[1.0, 2]</c> or <c>array&lt;f32: ...&gt;</c>), or null when absent.</summary>
    public static double[]? ReadFloats(this Operation op, string name)
    {
        switch (op.GetAttr(name))
        {
            case null: return null;
            case DenseArrayAttr d when d.Type.IsFloat: return d.Values.Select(bits => ElementCodec.FloatFromBits(d.Type, (ulong)bits)).ToArray();
            case ArrayAttr a:
                var result = new double[a.Elements.Count];
                for (int i = 0; i < result.Length; i++)
                    result[i] = a.Elements[i] switch
                    {
                        FloatAttr f => f.Value,
                        IntegerAttr v => v.Value,
                        var e => throw Malformed(op, name, "a list of floats", a, $"element #{i} is {Describe(e)}"),
                    };
                return result;
            case var other: throw Malformed(op, name, "a list of floats", other);
        }
    }

    public static string[]? ReadStrings(this Operation op, string name)
    {
        switch (op.GetAttr(name))
        {
            case null: return null;
            case ArrayAttr a:
                var result = new string[a.Elements.Count];
                for (int i = 0; i < result.Length; i++)
                    result[i] = a.Elements[i] is StringAttr s ? s.Value
                        : throw Malformed(op, name, "a list of strings", a, $"element #{i} is {Describe(a.Elements[i])}");
                return result;
            case var other: throw Malformed(op, name, "a list of strings", other);
        }
    }

    /// <summary>The error for attribute <paramref name="name"/> of <paramref name="op"/> not being <paramref name="expected"/>.</summary>
    public static MirException Malformed(Operation op, string name, string expected, Attr actual, string? detail = null) =>
        new($"'{op.Name}'{NameOf(op)}: attribute '{name}' must be {expected}, but is {Describe(actual)}{(detail is null ? "" : $" ({detail})")}",
            op.SourcePosition);

    private static string NameOf(Operation op) => op.Location.FirstName is { } n ? $" ({n})" : "";

    private static string Describe(Attr attr) => attr switch
    {
        IntegerAttr i => $"the integer {i.Value}",
        FloatAttr f => $"the float {f.Value}",
        StringAttr s => $"the string \"{s.Value}\"",
        BoolAttr b => b.Value ? "true" : "false",
        ArrayAttr a => $"a list of {a.Elements.Count}",
        DenseArrayAttr d => $"array<{d.Type.Name}>",
        _ => attr.GetType().Name.Replace("Attr", "").ToLowerInvariant() + " attribute",
    };
}
