using System.Buffers;

namespace Mopt.Ir;

/// <summary>
/// A file's text lent from a pooled buffer (<see cref="WholeFile.LendText"/>): read it until disposed, copy what outlives
/// that. Disposed once (<c>using var</c>): a copy of the struct disposed too would give the buffer back twice.
/// </summary>
public readonly struct LentText : IDisposable
{
    private readonly char[]? _pooled;

    internal LentText(ReadOnlyMemory<char> text, char[]? pooled)
    {
        Text = text;
        _pooled = pooled;
    }

    public ReadOnlyMemory<char> Text { get; }

    /// <summary>UTF-8 <paramref name="bytes"/> decoded into a pooled buffer.</summary>
    internal static LentText Decode(ReadOnlySpan<byte> bytes)
    {
        var chars = ArrayPool<char>.Shared.Rent(System.Text.Encoding.UTF8.GetMaxCharCount(bytes.Length));
        return new LentText(chars.AsMemory(0, System.Text.Encoding.UTF8.GetChars(bytes, chars)), chars);
    }

    public void Dispose()
    {
        if (_pooled is not null) ArrayPool<char>.Shared.Return(_pooled);
    }
}
