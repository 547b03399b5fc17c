using Antlr4.Runtime;
using Antlr4.Runtime.Misc;

namespace Mopt.Grammar;

/// <summary>
/// ANTLR's view of a <see cref="SourceText"/>: one char per byte, paged in 64 KiB at a time as the lexer
/// reaches it. Non-ASCII bytes only occur inside strings, which the IR reader decodes from the bytes as UTF-8.
/// </summary>
public sealed class MirCharStream : ICharStream
{
    private const int PageBits = 16;
    private const int PageSize = 1 << PageBits;
    private readonly byte[]?[] _pages;
    private int _index;

    public MirCharStream(SourceText source)
    {
        if (source.Length > int.MaxValue)
            throw new InvalidDataException($"{source.Name}: the text is over 2 GiB, more than the .mir reader handles");
        Source = source;
        Size = (int)source.Length;
        _pages = new byte[]?[(Size >> PageBits) + 1];
    }

    public SourceText Source { get; }
    public int Index => _index;
    public int Size { get; }
    public string SourceName => Source.Name;

    public int LA(int i)
    {
        if (i == 0) return 0;
        long at = i > 0 ? (long)_index + i - 1 : (long)_index + i;
        if (at < 0) return IntStreamConstants.EOF;
        return at >= Size ? IntStreamConstants.EOF : ByteAt((int)at);
    }

    public void Consume()
    {
        if (_index >= Size) throw new InvalidOperationException("cannot consume EOF");
        _index++;
    }

    public int Mark() => -1;
    public void Release(int marker) { }
    public void Seek(int index) => _index = Math.Min(index, Size);

    /// <summary>Display text for an interval (a long token is shortened; the IR reader reads token bytes itself).</summary>
    public string GetText(Interval interval)
    {
        int start = Math.Max(0, interval.a), stop = Math.Min(interval.b, Size - 1);
        if (stop < start) return "";
        const int MaxShown = 256;
        bool cut = stop - start + 1 > MaxShown;
        if (cut) stop = start + MaxShown - 1;
        // Token text comes from the pages the lexer already loaded, not from another read of the file.
        var chars = new char[stop - start + 1];
        for (int i = 0; i < chars.Length; i++) chars[i] = (char)ByteAt(start + i);
        var text = new string(chars);
        return cut ? text + "…" : text;
    }

    /// <summary>The bytes of [start, stop] from the loaded pages (for tokens the lexer has read).</summary>
    public byte[] Bytes(int start, int stop)
    {
        var bytes = new byte[Math.Max(0, stop - start + 1)];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)ByteAt(start + i);
        return bytes;
    }

    private int ByteAt(int at)
    {
        var page = _pages[at >> PageBits] ??= LoadPage(at >> PageBits);
        return page[at & (PageSize - 1)];
    }

    private byte[] LoadPage(int pageIndex)
    {
        long start = (long)pageIndex << PageBits;
        int length = (int)Math.Min(PageSize, Size - start);
        var page = new byte[PageSize];
        int done = 0;
        while (done < length)
        {
            int n = Source.Read(start + done, page.AsSpan(done, length - done));
            if (n <= 0) break;
            done += n;
        }
        return page;
    }
}
