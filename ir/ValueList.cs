using System.Collections;

namespace Mopt.Ir;

/// <summary>An immutable list that compares element by element, so records holding one compare by value.</summary>
public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    public static readonly ValueList<T> Empty = new(Array.Empty<T>());
    private readonly T[] _items;

    public ValueList(IEnumerable<T> items) => _items = items.ToArray();

    // Takes the array as it is (the caller made it and keeps no reference).
    private ValueList(T[] items, bool _) => _items = items;

    internal static ValueList<T> Own(T[] items) => new(items, false);

    public T this[int index] => _items[index];
    public int Count => _items.Length;
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public bool Equals(ValueList<T>? other) =>
        other is not null && _items.AsSpan().SequenceEqual(other._items, EqualityComparer<T>.Default);
    public override bool Equals(object? obj) => obj is ValueList<T> l && Equals(l);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var item in _items) h.Add(item);
        return h.ToHashCode();
    }
}

public static class ValueList
{
    public static ValueList<T> Of<T>(params T[] items) => new(items);
    public static ValueList<T> ToValueList<T>(this IEnumerable<T> items) => new(items);

    /// <summary>A list of a fresh array, without copying it: the caller must not change the array afterwards.</summary>
    internal static ValueList<T> Wrap<T>(T[] items) => ValueList<T>.Own(items);
}
