using Mopt.Ir;

namespace Mopt.Dialects.Tf;

/// <summary>
/// TensorFlow's <c>DataType</c> codes and the IR's types: the one table the TF reader and writer share. A dtype with an
/// IR element type is that type (<c>f32</c>, <c>i1</c> for bool); any other is the opaque <c>!tf.&lt;name&gt;</c>
/// (<c>!tf.string</c>, <c>!tf.qint8</c>, <c>!tf.float_ref</c>), or <c>!tf.dtype&lt;N&gt;</c> for a code this table lacks.
/// Plain integers, so that nothing here needs the protobuf classes.
/// </summary>
public static class TfDataTypes
{
    public const int Invalid = 0;
    public const int Float = 1;
    public const int String = 7;
    /// <summary>A reference edge's dtype is its base type plus this (DT_FLOAT_REF = 101).</summary>
    public const int RefOffset = 100;

    private static readonly string[] Names =
    [
        "invalid", "float", "double", "int32", "uint8", "int16", "int8", "string", "complex64", "int64", "bool",
        "qint8", "quint8", "qint32", "bfloat16", "qint16", "quint16", "uint16", "complex128", "half", "resource",
        "variant", "uint32", "uint64", "float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz",
        "float8_e5m2fnuz", "int4", "uint4", "int2", "uint2",
    ];

    private static readonly (int Code, ElementType Element)[] Elements =
    [
        (1, ElementType.F32), (2, ElementType.F64), (3, ElementType.I32), (4, ElementType.UI8), (5, ElementType.I16),
        (6, ElementType.I8), (9, ElementType.I64), (10, ElementType.I1), (14, ElementType.BF16), (17, ElementType.UI16),
        (19, ElementType.F16), (22, ElementType.UI32), (23, ElementType.UI64),
    ];

    /// <summary>The IR element type of a dtype, or null when the IR has none (strings, quantized, complex, refs, ...).</summary>
    public static ElementType? ElementOf(int code)
    {
        foreach (var (c, e) in Elements) if (c == code) return e;
        return null;
    }

    /// <summary>The dtype of an IR element type, or null when TensorFlow has none.</summary>
    public static int? CodeOf(ElementType element)
    {
        foreach (var (c, e) in Elements) if (e == element) return c;
        return null;
    }

    /// <summary>The dtype as an IR type: an element type or <c>!tf.&lt;name&gt;</c>.</summary>
    public static MirType TypeOf(int code) => (MirType?)ElementOf(code) ?? new OpaqueType("!tf." + NameOf(code));

    /// <summary>TensorFlow's lower-case name without <c>DT_</c> (<c>float_ref</c>), or <c>dtype&lt;N&gt;</c>.</summary>
    public static string NameOf(int code) =>
        code >= 0 && code < Names.Length ? Names[code]
        : code > RefOffset && code - RefOffset < Names.Length ? Names[code - RefOffset] + "_ref"
        : $"dtype<{code}>";

    /// <summary>The dtype an IR type stands for (the inverse of <see cref="TypeOf"/>), or null.</summary>
    public static int? CodeOf(MirType type)
    {
        if (type is ElementType e) return CodeOf(e);
        if (type is not OpaqueType { Spelling: var s } || !s.StartsWith("!tf.", StringComparison.Ordinal)) return null;
        var name = s[4..];
        if (name.StartsWith("dtype<", StringComparison.Ordinal) && name.EndsWith('>')
            && int.TryParse(name.AsSpan(6, name.Length - 7), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n))
            return n;
        bool isRef = name.EndsWith("_ref", StringComparison.Ordinal);
        int at = Array.IndexOf(Names, isRef ? name[..^4] : name);
        return at < 0 ? null : at + (isRef ? RefOffset : 0);
    }
}
