using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>
/// A file mapped read-only into memory, handed out as <see cref="ReadOnlyMemory{T}"/> slices (<see cref="MappedMemory"/>):
/// a weight read from a model file stays the file's pages, which the kernel reads in when touched and may drop again,
/// instead of a copy on the heap. The mapping lives while any slice of it is reachable. (A file of at most 64 MB read
/// whole may instead be read into a block of a <see cref="BlockPool"/>, <see cref="ReadWhole"/>: the same slices,
/// the same release, and unmapping gives the block back. A pooled block that passes write new weights into,
/// <see cref="ForWrites"/>, is one too, of no file.)
/// <para>
/// Resident mapped pages count in a process's RSS, so code that is done with mapped bytes (a writer that has written
/// them, a pass that has replaced them) calls <see cref="MappedMemory.Release"/>: the pages leave the process (the page
/// cache keeps them) and are read back from the file if touched again, so releasing is never wrong, only slower.
/// </para>
/// </summary>
public sealed unsafe class MappedFile
{
    /// <summary>A view of .NET's (<see cref="Open"/>); null for a mapping of mopt's own of the whole file (<see cref="MapWhole"/>).</summary>
    private readonly MemoryMappedViewAccessor? _view;
    /// <summary>The pooled block the file was read into instead of mapped (<see cref="ReadWhole"/>), given back to <see cref="_pool"/> when unmapped.</summary>
    private readonly byte[]? _block;
    private readonly BlockPool? _pool;
    private readonly byte* _start;
    private int _owners, _unmapped;

    public string Path { get; }
    public long Length { get; }

    /// <summary>The pooled block the file was read into, or null for a mapping.</summary>
    internal byte[]? Block => _block;

    private MappedFile(string path, MemoryMappedViewAccessor view, long length)
    {
        Path = path;
        _view = view;
        Length = length;
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        _start = start + view.PointerOffset;
    }

    private MappedFile(string path, byte* start, long length)
    {
        Path = path;
        _start = start;
        Length = length;
    }

    private MappedFile(string path, BlockPool pool, byte[] block, long length)
    {
        Path = path;
        _pool = pool;
        _block = block;
        // The pool's blocks are allocated pinned: the address taken here holds while the block lives.
        _start = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(block));
        Length = length;
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

    /// <summary>
    /// Maps <paramref name="file"/> (not empty; Linux) for a reader of
    /// every byte (<see cref="WholeFile.ReadOrMap"/>): every page mapped at once and kept until the mapping goes, never
    /// dropped (<see cref="MappedMemory.Release"/> does nothing). One mmap with MAP_POPULATE: a page fault per 16 pages
    /// as they are read costs more than a read's copy; .NET's MemoryMappedFile would add its handles, a view and a
    /// madvise to the mmap and munmap that are all this needs.
    /// </summary>
    internal static MappedFile MapWhole(ReadOnlyFile file)
    {
        nint start = Libc.Map(0, (nuint)file.Length, Libc.ProtRead, Libc.MapPrivate | Libc.MapPopulate, file.Descriptor, 0);
        if (start == -1) throw new IOException($"cannot map '{file.Path}': {Marshal.GetLastPInvokeErrorMessage()}");
        return new MappedFile(file.Path, (byte*)start, file.Length);
    }

    /// <summary>
    /// <paramref name="file"/> read into <paramref name="block"/>, a
    /// pinned array of <paramref name="pool"/> that goes back to it when the file is unmapped (its last owner lets go, or
    /// the collector finds it unreachable): for the reader of <see cref="MapWhole"/>, a file in memory the process has
    /// touched before instead of a mapping made and unmade.
    /// </summary>
    internal static MappedFile ReadWhole(ReadOnlyFile file, BlockPool pool, byte[] block)
    {
        var read = new MappedFile(file.Path, pool, block, file.Length);
        try { file.Fill(block.AsSpan(0, (int)file.Length)); }
        catch
        {
            read.Unmap();
            throw;
        }
        return read;
    }

    /// <summary>
    /// A pooled block that is no file's, for weights a pass computes (<see cref="ResourceTable.Allocate"/>): its slices,
    /// ownership and release are a file's; its <see cref="Path"/> names it for the error a released one's reader gets.
    /// </summary>
    internal static MappedFile ForWrites(BlockPool pool, byte[] block) => new(ComputedWeights, pool, block, block.Length);

    /// <summary>The <see cref="Path"/> of a block <see cref="ForWrites"/>.</summary>
    internal const string ComputedWeights = "(weights computed by passes)";

    /// <summary>
    /// Bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="length"/> to write into: only of a
    /// pooled block (a mapping's pages are read-only).
    /// </summary>
    internal Memory<byte> WritableSlice(long offset, int length)
    {
        if (_block is null) throw new InvalidOperationException($"'{Path}' is mapped read-only");
        if (offset < 0 || length < 0 || offset + length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        return length == 0 ? Memory<byte>.Empty : new MappedMemory(this, offset, length).Memory;
    }

    /// <summary>The least offset from <paramref name="offset"/> on whose byte's address is a multiple of <paramref name="alignment"/> (a power of two).</summary>
    internal long AlignUp(long offset, int alignment) => offset + (-((long)_start + offset) & (alignment - 1));

    ~MappedFile() => Unmap();

    /// <summary>One more resource table holds blobs of this file (<see cref="ResourceTable.ReleaseFiles"/>).</summary>
    internal void AddOwner() => Interlocked.Increment(ref _owners);

    /// <summary>A table that held blobs of this file let it go: the last one unmaps it now, not when the collector gets to it.</summary>
    internal void RemoveOwner()
    {
        if (Interlocked.Decrement(ref _owners) == 0) Unmap();
    }

    /// <summary>Whether the file is still mapped (it is not after its last owner let it go).</summary>
    public bool IsMapped => Volatile.Read(ref _unmapped) == 0;

    private void Unmap()
    {
        if (Interlocked.Exchange(ref _unmapped, 1) != 0) return;
        if (_block is not null) _pool!.Return(_block);
        else if (_view is null) _ = Libc.Unmap((nint)_start, (nuint)Length);
        else
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="length"/> of the file, not copied.</summary>
    public ReadOnlyMemory<byte> Slice(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset + length > Length) throw new ArgumentOutOfRangeException(nameof(length), $"bytes {offset}..{offset + length} are past the end of '{Path}' ({Length} bytes)");
        return length == 0 ? ReadOnlyMemory<byte>.Empty : new MappedMemory(this, offset, length).Memory;
    }

    // Bytes of an unmapped file are an error, never a read of whatever is mapped there now.
    internal byte* Pointer(long offset) => IsMapped ? _start + offset
        : throw new ObjectDisposedException(nameof(MappedFile), $"'{Path}' was unmapped (its model was disposed) while its bytes were still in use");

    /// <summary>Lets the kernel take the whole pages of bytes <paramref name="offset"/>..+<paramref name="length"/> out of this process (not a file mapped whole: a madvise per weight costs more than its few pages).</summary>
    internal void DropPages(long offset, long length)
    {
        if (_view is null || !IsMapped) return;
        long page = Environment.SystemPageSize;
        long first = ((long)(_start + offset) + page - 1) / page * page;
        long end = ((long)(_start + offset) + length) / page * page;
        if (end > first) Madvise.Advise((nint)first, (nuint)(end - first), Madvise.DontNeed);
        GC.KeepAlive(this);
    }
}
