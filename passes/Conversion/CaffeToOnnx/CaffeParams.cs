using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Reads a Caffe layer's parameters (the fields of its <c>*_param</c> message, flattened as attributes by the importer)
/// with Caffe's defaults: an absent field is the default, a field of the wrong kind blocks the lowering (naming it).
/// </summary>
internal static class CaffeParams
{
    public static bool Has(OpLowering l, string name) => l.Op.GetAttr(name) is not null;

    public static long Int(OpLowering l, string name, long defaultValue) => IntOf(l.Op.GetAttr(name), name, defaultValue);

    /// <summary><see cref="Int"/> of an attribute already looked up (null when absent).</summary>
    private static long IntOf(Attr? attr, string name, long defaultValue) => attr switch
    {
        null => defaultValue,
        IntegerAttr i => i.Value,
        BoolAttr b => b.Value ? 1 : 0,
        var other => throw OpLowering.Blocked($"'{name}' is {other}, not an integer"),
    };

    /// <summary>A repeated integer field (an empty array when absent; a single integer reads as one value).</summary>
    public static long[] Ints(OpLowering l, string name) => IntsOf(l.Op.GetAttr(name), name);

    private static long[] IntsOf(Attr? attr, string name) => attr switch
    {
        null => [],
        IntegerAttr i => [i.Value],
        ArrayAttr a => IntElements(a, name),
        DenseArrayAttr d when !d.Type.IsFloat => d.Ints.ToArray(),
        var other => throw OpLowering.Blocked($"'{name}' is {other}, not integers"),
    };

    // A loop, not Select/ToArray: read for every conv and pool layer's kernel, stride and pad.
    private static long[] IntElements(ArrayAttr a, string name)
    {
        var values = new long[a.Elements.Count];
        for (int k = 0; k < values.Length; k++)
            values[k] = a.Elements[k] is IntegerAttr v ? v.Value : throw OpLowering.Blocked($"'{name}' holds {a.Elements[k]}, not integers");
        return values;
    }

    public static float Float(OpLowering l, string name, float defaultValue) => l.Op.GetAttr(name) switch
    {
        null => defaultValue,
        FloatAttr f => (float)f.Value,
        IntegerAttr i => i.Value,
        var other => throw OpLowering.Blocked($"'{name}' is {other}, not a float"),
    };

    public static bool Bool(OpLowering l, string name, bool defaultValue) => l.Op.GetAttr(name) switch
    {
        null => defaultValue,
        BoolAttr b => b.Value,
        IntegerAttr i => i.Value != 0,
        var other => throw OpLowering.Blocked($"'{name}' is {other}, not a bool"),
    };

    /// <summary>An enum field (the importer writes its value's name), one of <paramref name="known"/>.</summary>
    public static string Enum(OpLowering l, string name, string defaultValue, params string[] known)
    {
        var value = l.Op.GetAttr(name) switch
        {
            null => defaultValue,
            StringAttr s => s.Value,
            var other => throw OpLowering.Blocked($"'{name}' is {other}, not one of {string.Join(", ", known)}"),
        };
        return known.Contains(value) ? value : throw OpLowering.Blocked($"{name} {value} is not one of {string.Join(", ", known)}");
    }

    /// <summary>How many of the op's trailing operands are the layer's blobs (<c>caffe.blobs</c>).</summary>
    public static int BlobCount(OpLowering l) => (int)Int(l, "caffe.blobs", 0);

    /// <summary>The layer's bottoms: the operands before its blobs.</summary>
    public static int BottomCount(OpLowering l) => l.InputCount - BlobCount(l);

    /// <summary>Blob <paramref name="i"/> (in Caffe's order) of the layer.</summary>
    public static Value Blob(OpLowering l, int i) => Blob(l, i, BlobCount(l));

    /// <summary><see cref="Blob(OpLowering, int)"/> of a layer with <paramref name="blobs"/> blobs (its count read once).</summary>
    public static Value Blob(OpLowering l, int i, int blobs)
    {
        if (i >= blobs) throw OpLowering.Blocked($"it has {blobs} blob{(blobs == 1 ? "" : "s")}, blob {i} is missing");
        return l.Input(l.InputCount - blobs + i);
    }

    /// <summary>
    /// A per-spatial-axis field of <paramref name="axes"/> values: <paramref name="h"/>/<paramref name="w"/> (2-D only)
    /// when either is set, else the repeated (or single) <paramref name="name"/> with one value for every axis or one
    /// each, else <paramref name="defaultValue"/> for every axis.
    /// </summary>
    public static long[] Spatial(OpLowering l, string name, string? h, string? w, int axes, long? defaultValue)
    {
        // Each field looked up once (every conv and pool layer reads four of these).
        var hAttr = h is null ? null : l.Op.GetAttr(h);
        var wAttr = w is null ? null : l.Op.GetAttr(w);
        if (h is not null && w is not null && (hAttr is not null || wAttr is not null))
        {
            if (axes != 2) throw OpLowering.Blocked($"{h}/{w} are for 2 spatial axes, the layer has {axes}");
            if (Ints(l, name).Length > 0) throw OpLowering.Blocked($"it sets both {name} and {h}/{w} (Caffe takes one or the other)");
            long hv = IntOf(hAttr, h, defaultValue ?? -1), wv = IntOf(wAttr, w, defaultValue ?? -1);
            if (hv < 0 || wv < 0) throw OpLowering.Blocked($"it sets only one of {h} and {w}");
            return [hv, wv];
        }
        var values = Ints(l, name);
        return values.Length switch
        {
            0 when defaultValue is { } d => Filled(d, axes),
            0 => throw OpLowering.Blocked($"it has no {name}"),
            1 => Filled(values[0], axes),
            _ when values.Length == axes => values,
            _ => throw OpLowering.Blocked($"{name} has {values.Length} values for {axes} spatial axes"),
        };
    }

    private static long[] Filled(long value, int count)
    {
        var values = new long[count];
        Array.Fill(values, value);
        return values;
    }
}
