using System.IO.MemoryMappedFiles;

namespace Mopt.Ir;

/// <summary>
/// A file mapped read-only into memory, handed out as <see cref="ReadOnlyMemory{T}"/> slices (<see cref="MappedMemory"/>):
/// a weight read from a model file stays the file's pages, which the kernel reads in when touched and may drop again,
/// instead of a copy on the heap. The mapping lives while any slice of it is reachable.
/// <para>
/// Resident mapped pages count in a process's RSS, so code that is done with mapped bytes (a writer that has written
/// them, a pass that has replaced them) calls <see cref="MappedMemory.Release"/>: the pages leave the process (the page
/// cache keeps them) and are read back from the file if touched again, so releasing is never wrong, only slower.
/// </para>
/// </summary>
public sealed unsafe class MappedFile
{
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _start;

    public string Path { get; }
    public long Length { get; }

    private MappedFile(string path, MemoryMappedViewAccessor view, long length)
    {
        Path = path;
        _view = view;
        Length = length;
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        _start = start + view.PointerOffset;
    }

    /// <summary>Maps <paramref name="path"/> (opened read-only, shared for reading), or returns null for an empty file.</summary>
    public static MappedFile? Open(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        long length = stream.Length;
        if (length == 0) return null;
        // The view outlives the file's descriptor (closed here): a model of thousands of external data files
        // (onnx's one file per tensor) holds mappings, not open files.
        using var file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        return new MappedFile(path, file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read), length);
    }

    ~MappedFile()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
    }

    /// <summary>Bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="length"/> of the file, not copied.</summary>
    public ReadOnlyMemory<byte> Slice(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset + length > Length) throw new ArgumentOutOfRangeException(nameof(length), $"bytes {offset}..{offset + length} are past the end of '{Path}' ({Length} bytes)");
        return length == 0 ? ReadOnlyMemory<byte>.Empty : new MappedMemory(this, offset, length).Memory;
    }

    internal byte* Pointer(long offset) => _start + offset;

    /// <summary>Lets the kernel take the whole pages of bytes <paramref name="offset"/>..+<paramref name="length"/> out of this process.</summary>
    internal void DropPages(long offset, long length)
    {
        long page = Environment.SystemPageSize;
        long first = ((long)(_start + offset) + page - 1) / page * page;
        long end = ((long)(_start + offset) + length) / page * page;
        if (end > first) Madvise.Advise((nint)first, (nuint)(end - first), Madvise.DontNeed);
        GC.KeepAlive(this);
    }
}
