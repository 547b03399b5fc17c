using System.Runtime.CompilerServices;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// A parameter message's varint fields numbered 1-15 as <see cref="CaffeLayer.Scalars"/> read them (a value given, or
/// null: the field's default applies), and the values of the one repeated field asked for.
/// </summary>
internal struct ParamScalars
{
    public const int Count = 16;

    [InlineArray(Count)]
    private struct Values
    {
        private ulong _first;
    }

    private Values _values;
    private int _given;

    /// <summary>The repeated field's values in order, or null when none is given.</summary>
    public List<uint>? Repeated;

    public void Set(int field, ulong value)
    {
        _values[field] = value;
        _given |= 1 << field;
    }

    /// <summary>The value of field <paramref name="field"/>, or null when the message does not give it.</summary>
    public readonly ulong? this[int field] => (_given & (1 << field)) != 0 ? _values[field] : null;

    /// <summary>A bool field: its value, or <paramref name="byDefault"/> (caffe.proto's default) when not given.</summary>
    public readonly bool Bool(int field, bool byDefault) => this[field] is { } v ? v != 0 : byDefault;
}
