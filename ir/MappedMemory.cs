using System.Buffers;
using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>
/// A slice of a <see cref="MappedFile"/> as memory. Read-only when the file is mapped (its pages are mapped without write
/// access); a pooled block's slices from <see cref="MappedFile.WritableSlice"/> are written by the pass that asked for them.
/// </summary>
public sealed unsafe class MappedMemory : MemoryManager<byte>
{
    private readonly MappedFile _file;
    private readonly long _offset;
    private readonly int _length;

    internal MappedMemory(MappedFile file, long offset, int length)
    {
        _file = file;
        _offset = offset;
        _length = length;
    }

    public MappedFile File => _file;
    public long Offset => _offset;

    public override Span<byte> GetSpan() => new(_file.Pointer(_offset), _length);

    // The mapping never moves: pinning is taking the address.
    public override MemoryHandle Pin(int elementIndex = 0) => new(_file.Pointer(_offset + elementIndex), default, this);

    public override void Unpin() { }

    protected override void Dispose(bool disposing) { }

    /// <summary>Whether <paramref name="bytes"/> are (a slice of) a mapped file's pages.</summary>
    public static bool IsMapped(ReadOnlyMemory<byte> bytes) => MemoryMarshal.TryGetMemoryManager<byte, MappedMemory>(bytes, out _);

    /// <summary>
    /// Done with <paramref name="bytes"/> for now: when they are mapped, their pages leave the process (read from the
    /// file again if touched); otherwise nothing happens.
    /// </summary>
    public static void Release(ReadOnlyMemory<byte> bytes)
    {
        if (MemoryMarshal.TryGetMemoryManager<byte, MappedMemory>(bytes, out var manager, out int start, out int length))
            manager._file.DropPages(manager._offset + start, length);
    }
}
