using Microsoft.Win32.SafeHandles;

namespace Mopt.Grammar;

/// <summary>
/// The bytes of a .mir text, read on demand. A file is never loaded whole: the parser pages in the parts it
/// lexes, and blob hex is streamed straight into byte arrays (a 100 MB weight never becomes a string).
/// </summary>
public abstract class SourceText : IDisposable
{
    protected SourceText(string name) => Name = name;

    /// <summary>The name diagnostics use (the path as given, or &lt;stdin&gt;).</summary>
    public string Name { get; }
    public abstract long Length { get; }

    /// <summary>Copies bytes at <paramref name="offset"/> into <paramref name="destination"/>; returns how many.</summary>
    public abstract int Read(long offset, Span<byte> destination);

    public virtual void Dispose() { }

    public static SourceText FromFile(string path) => new FileSourceText(path);
    public static SourceText FromBytes(string name, byte[] bytes) => new MemorySourceText(name, bytes);
    public static SourceText FromString(string name, string text) => new MemorySourceText(name, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>The bytes in [start, stop] (inclusive), for tokens of ordinary size.</summary>
    public byte[] ReadRange(long start, long stop)
    {
        var bytes = new byte[checked((int)(stop - start + 1))];
        int done = 0;
        while (done < bytes.Length)
        {
            int n = Read(start + done, bytes.AsSpan(done));
            if (n <= 0) break;
            done += n;
        }
        return bytes;
    }

    /// <summary>The text of the line holding <paramref name="offset"/> (for a diagnostic's excerpt), at most 400 bytes of it.</summary>
    public string LineAt(long offset)
    {
        const int Window = 400;
        offset = Math.Clamp(offset, 0, Length);
        long start = Math.Max(0, offset - Window);
        var before = offset > start ? ReadRange(start, offset - 1) : [];
        int nl = Array.LastIndexOf(before, (byte)'\n');
        long lineStart = nl >= 0 ? start + nl + 1 : start;
        long end = Math.Min(Length, lineStart + Window);
        if (end <= lineStart) return "";
        var line = ReadRange(lineStart, end - 1);
        int stop = Array.IndexOf(line, (byte)'\n');
        var text = System.Text.Encoding.UTF8.GetString(line, 0, stop >= 0 ? stop : line.Length);
        return text.TrimEnd('\r');
    }
}

internal sealed class FileSourceText : SourceText
{
    private readonly SafeFileHandle _handle;

    public FileSourceText(string path) : base(path)
    {
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        Length = RandomAccess.GetLength(_handle);
    }

    public override long Length { get; }

    public override int Read(long offset, Span<byte> destination)
    {
        if (offset >= Length) return 0;
        return RandomAccess.Read(_handle, destination, offset);
    }

    public override void Dispose() => _handle.Dispose();
}

internal sealed class MemorySourceText : SourceText
{
    private readonly byte[] _bytes;
    public MemorySourceText(string name, byte[] bytes) : base(name) => _bytes = bytes;
    public override long Length => _bytes.Length;

    public override int Read(long offset, Span<byte> destination)
    {
        if (offset >= _bytes.Length) return 0;
        int n = (int)Math.Min(destination.Length, _bytes.Length - offset);
        _bytes.AsSpan((int)offset, n).CopyTo(destination);
        return n;
    }
}
