using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>An attribute value, as MLIR's builtin attributes. Attributes are immutable and compare by value.</summary>
public abstract record Attr;

/// <summary><c>3 : i64</c>. Unsigned 64-bit values keep their bits in <see cref="Value"/>.</summary>
public sealed record IntegerAttr(long Value, ElementType Type) : Attr
{
    // Small values shared (attributes are immutable and compare by value): every pad, stride, axis and shape dim was an object.
    private static readonly IntegerAttr[] SmallI64 = Enumerable.Range(-1, 258).Select(v => new IntegerAttr(v, ElementType.I64)).ToArray();

    public static IntegerAttr I64(long v) => v >= -1 && v <= 256 ? SmallI64[v + 1] : new(v, ElementType.I64);
}

/// <summary><c>1.0e-05 : f32</c>. The value is exact for its type; a NaN keeps its bits (payload, signalling).</summary>
public sealed record FloatAttr(double Value, ElementType Type) : Attr
{
    /// <summary>The exact bits of a NaN, which a double cannot carry for every type.</summary>
    public ulong? NanBits { get; init; }

    public static FloatAttr F32(float v) => new(v, ElementType.F32);

    public static FloatAttr FromBits(ElementType type, ulong bits)
    {
        double value = ElementCodec.FloatFromBits(type, bits);
        return new FloatAttr(value, type) { NanBits = double.IsNaN(value) ? bits : null };
    }

    public ulong Bits => NanBits ?? ElementCodec.BitsOf(Type, Value);
}

public sealed record BoolAttr(bool Value) : Attr
{
    public static readonly BoolAttr True = new(true);
    public static readonly BoolAttr False = new(false);
}

public sealed record StringAttr(string Value) : Attr;

public sealed record UnitAttr : Attr
{
    public static readonly UnitAttr Instance = new();
}

/// <summary><c>[1, 2, "a"]</c></summary>
public sealed record ArrayAttr(ValueList<Attr> Elements) : Attr
{
    public static ArrayAttr Of(IEnumerable<Attr> elements) => new(elements.ToValueList());
    public static ArrayAttr OfInts(IEnumerable<long> values)
    {
        // One loop, no iterator (every lowered op's pads, strides and kernel shape pass here).
        if (values is not IReadOnlyList<long> list) return new(values.Select(v => (Attr)IntegerAttr.I64(v)).ToValueList());
        var items = new Attr[list.Count];
        for (int i = 0; i < items.Length; i++) items[i] = IntegerAttr.I64(list[i]);
        return new(ValueList.Wrap(items));
    }
    public static ArrayAttr OfFloats(IEnumerable<float> values) => new(values.Select(v => (Attr)FloatAttr.F32(v)).ToValueList());
    public static ArrayAttr OfStrings(IEnumerable<string> values)
    {
        // One loop, no iterator (every imported Caffe layer's tops pass here).
        if (values is not IReadOnlyList<string> list) return new(values.Select(v => (Attr)new StringAttr(v)).ToValueList());
        var items = new Attr[list.Count];
        for (int i = 0; i < items.Length; i++) items[i] = new StringAttr(list[i]);
        return new(ValueList.Wrap(items));
    }
}

/// <summary>
/// <c>array&lt;i64: 1, 2&gt;</c>. <see cref="Values"/> holds integers (bools as 0/1) as they are, and floats as their
/// bit patterns, so every value (NaN payloads included) is exact.
/// </summary>
public sealed record DenseArrayAttr(ElementType Type, ValueList<long> Values) : Attr
{
    public int Count => Values.Count;
    public IEnumerable<long> Ints => Type.IsFloat ? throw new InvalidOperationException($"array<{Type.Name}> holds floats") : Values;
    public IEnumerable<double> Floats => Type.IsFloat ? Values.Select(b => ElementCodec.FloatFromBits(Type, unchecked((ulong)b))) : Values.Select(v => (double)v);

    public static DenseArrayAttr OfInts(ElementType type, IEnumerable<long> values) => new(type, values.ToValueList());

    public override string ToString() => $"array<{Type.Name}: {string.Join(", ", Type.IsFloat ? Floats.Select(f => f.ToString(System.Globalization.CultureInfo.InvariantCulture)) : Values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}>";
    public static DenseArrayAttr OfFloats(ElementType type, IEnumerable<double> values) =>
        new(type, values.Select(v => unchecked((long)ElementCodec.BitsOf(type, v))).ToValueList());
}

/// <summary><c>{a = 1, b}</c>; entries are kept sorted by name, as MLIR does.</summary>
public sealed record DictionaryAttr(ValueList<NamedAttr> Entries) : Attr
{
    public static readonly DictionaryAttr Empty = new(ValueList<NamedAttr>.Empty);

    public static DictionaryAttr From(IEnumerable<NamedAttr> entries) => Sorted(entries.ToArray());

    /// <summary>The entries copied once (a collection expression or a reader's scratch list binds here: no array of its own first).</summary>
    public static DictionaryAttr From(ReadOnlySpan<NamedAttr> entries) => Sorted(entries.ToArray());

    private static DictionaryAttr Sorted(NamedAttr[] sorted)
    {
        if (sorted.Length > 32) return new(sorted.OrderBy(e => e.Name, StringComparer.Ordinal).ToValueList());
        // An insertion sort, stable as OrderBy was (a name given twice keeps its order): a dictionary has a handful of
        // entries, and OrderBy's keys, maps and comparer were 1% of a small Caffe import's run.
        for (int i = 1; i < sorted.Length; i++)
        {
            var entry = sorted[i];
            int j = i - 1;
            while (j >= 0 && string.CompareOrdinal(sorted[j].Name, entry.Name) > 0)
            {
                sorted[j + 1] = sorted[j];
                j--;
            }
            sorted[j + 1] = entry;
        }
        return new(ValueList.Wrap(sorted));
    }

    public Attr? Get(string name)
    {
        // Asked per argument, result and dim by the writers: a loop, no closure or enumerator.
        var entries = Entries;
        for (int i = 0; i < entries.Count; i++)
            if (entries[i].Name == name) return entries[i].Value;
        return null;
    }
}

public readonly record struct NamedAttr(string Name, Attr Value);

/// <summary><c>@sym</c> or <c>@root::@nested</c>.</summary>
public sealed record SymbolRefAttr(string Root, ValueList<string> Nested) : Attr
{
    public SymbolRefAttr(string root) : this(root, ValueList<string>.Empty) { }
}

public sealed record TypeAttr(MirType Type) : Attr;

/// <summary>
/// <c>dense&lt;...&gt; : tensor&lt;...&gt;</c>: raw little-endian, row-major bytes of the whole tensor, or of one
/// element when <see cref="IsSplat"/>. One byte per i1 element; i4/ui4 packed two to a byte, low nibble first (a
/// splat: one byte, the value in its low nibble).
/// </summary>
public sealed record DenseElementsAttr(TensorType Type, ReadOnlyMemory<byte> Data, bool IsSplat) : Attr
{
    public long ElementCount => Type.ElementCount ?? throw new InvalidOperationException($"dense constant of {Type} has no static shape");

    public bool Equals(DenseElementsAttr? other) =>
        other is not null && Type == other.Type && IsSplat == other.IsSplat && Data.Span.SequenceEqual(other.Data.Span);

    public override int GetHashCode() => HashCode.Combine(Type, IsSplat, Data.Length, Data.Length > 0 ? Data.Span[0] : 0);

    /// <summary>The element bytes for every element, expanding a splat.</summary>
    public byte[] ToFullBytes()
    {
        if (!IsSplat) return Data.ToArray();
        if (Type.Element.IsPacked)
        {
            var packed = new byte[Type.ByteSize!.Value];
            for (long i = 0; i < ElementCount; i++) ElementCodec.WritePacked(packed, i, Data.Span[0]);
            return packed;
        }
        var full = new byte[checked(ElementCount * Type.Element.ByteSize)];
        for (int i = 0; i < full.Length; i += Data.Length) Data.Span.CopyTo(full.AsSpan(i));
        return full;
    }

    /// <summary>
    /// A constant from the bytes of every element (or of one element, repeated). All-equal data is stored as a
    /// splat, as MLIR does, so equal constants compare equal and print the same.
    /// </summary>
    public static DenseElementsAttr Create(TensorType type, byte[] data)
    {
        if (type.Element.IsPacked) return CreatePacked(type, data);
        int size = type.Element.ByteSize;
        if (data.Length == 0) return new DenseElementsAttr(type, data, false);
        if (data.Length == size) return new DenseElementsAttr(type, data, true);
        var span = data.AsSpan();
        var first = span[..size];
        for (int at = size; at < span.Length; at += size)
            if (!span.Slice(at, size).SequenceEqual(first)) return new DenseElementsAttr(type, data, false);
        return new DenseElementsAttr(type, first.ToArray(), true);
    }

    /// <summary>i4/ui4 from their packed bytes (every element; one byte is a splat only when it cannot be the whole tensor).</summary>
    private static DenseElementsAttr CreatePacked(TensorType type, byte[] data)
    {
        long n = type.ElementCount ?? throw new InvalidOperationException($"dense constant of {type} has no static shape");
        if (n == 0) return new DenseElementsAttr(type, data, false);
        if (data.Length == 1 && n > 2) return new DenseElementsAttr(type, new[] { (byte)(data[0] & 0xF) }, true);
        long first = ElementCodec.ReadPacked(data, 0, type.Element);
        for (long i = 1; i < n; i++)
            if (ElementCodec.ReadPacked(data, i, type.Element) != first) return new DenseElementsAttr(type, data, false);
        return new DenseElementsAttr(type, new[] { (byte)(first & 0xF) }, true);
    }

    public static DenseElementsAttr FromFloats(TensorType type, ReadOnlySpan<float> values) =>
        Create(type, MemoryMarshal.AsBytes(values).ToArray());

    public static DenseElementsAttr FromInt64s(TensorType type, ReadOnlySpan<long> values) =>
        Create(type, MemoryMarshal.AsBytes(values).ToArray());
}

/// <summary><c>dense_resource&lt;key&gt; : tensor&lt;...&gt;</c>: the bytes live in the module's resource table.</summary>
public sealed record DenseResourceAttr(TensorType Type, string Key) : Attr
{
    /// <summary>The key a dump uses in place of a constant it left out.</summary>
    public const string ElidedKey = "__elided__";
}

public static class AttrResources
{
    /// <summary>
    /// Adds the resource keys <paramref name="attr"/> points at (inside arrays and dictionaries too) to
    /// <paramref name="keys"/>; allocates nothing (asked for every attribute of every op after every pass). A
    /// <see cref="HashSet{T}"/>, not an <see cref="ISet{T}"/>: no call through an interface per key.
    /// </summary>
    public static void AddResourceKeysTo(this Attr attr, HashSet<string> keys)
    {
        switch (attr)
        {
            case DenseResourceAttr r:
                keys.Add(r.Key);
                break;
            case ArrayAttr a:
                for (int i = 0; i < a.Elements.Count; i++)
                    if (a.Elements[i] is DenseResourceAttr or ArrayAttr or DictionaryAttr) a.Elements[i].AddResourceKeysTo(keys);
                break;
            case DictionaryAttr d:
                for (int i = 0; i < d.Entries.Count; i++) d.Entries[i].Value.AddResourceKeysTo(keys);
                break;
        }
    }

    /// <summary>The resource keys <paramref name="attr"/> points at (inside arrays and dictionaries too), in order.</summary>
    public static IEnumerable<string> ResourceKeys(this Attr attr)
    {
        switch (attr)
        {
            case DenseResourceAttr r:
                yield return r.Key;
                break;
            case ArrayAttr a:
                foreach (var e in a.Elements)
                    foreach (var k in e.ResourceKeys()) yield return k;
                break;
            case DictionaryAttr d:
                foreach (var e in d.Entries)
                    foreach (var k in e.Value.ResourceKeys()) yield return k;
                break;
        }
    }
}
