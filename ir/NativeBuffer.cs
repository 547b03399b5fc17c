using System.Buffers;
using System.Runtime.InteropServices;

namespace Mopt.Ir;

/// <summary>
/// A large buffer outside the managed heap, in 2 MiB-aligned memory the kernel may back with huge pages
/// (<c>madvise(MADV_HUGEPAGE)</c>): a pass that makes a new 100 MB weight (fold-bn) otherwise spends as long taking a
/// page fault for each 4 KiB of a fresh array as it does computing. Freed when the last reference to it goes.
/// </summary>
public sealed unsafe class NativeBuffer : MemoryManager<byte>
{
    private const int HugePageSize = 2 << 20;
    /// <summary>Below this a managed array is as good (few pages to fault).</summary>
    public const int MinBytes = 4 << 20;

    private byte* _start;
    private readonly int _length;

    private NativeBuffer(int length)
    {
        _length = length;
        _start = (byte*)NativeMemory.AlignedAlloc((nuint)length, HugePageSize);
        Madvise.Advise((nint)_start, (nuint)((length + HugePageSize - 1) / HugePageSize * HugePageSize), Madvise.HugePage);
        GC.AddMemoryPressure(length);
    }

    /// <summary>Uninitialized memory of <paramref name="length"/> bytes: a native buffer when large, else a managed array.</summary>
    public static Memory<byte> Allocate(int length) =>
        length >= MinBytes ? new NativeBuffer(length).Memory : GC.AllocateUninitializedArray<byte>(length);

    // A span does not keep its manager alive: the memory is freed only when no blob, tensor or Memory refers to it,
    // and code reads a blob's span while it holds the blob (the module's resource table, a ConstantTensor).
#pragma warning disable CA2015
    ~NativeBuffer() => Free();
#pragma warning restore CA2015

    private void Free()
    {
        if (_start is null) return;
        NativeMemory.AlignedFree(_start);
        _start = null;
        GC.RemoveMemoryPressure(_length);
    }

    public override Span<byte> GetSpan() => new(_start, _length);

    // Native memory never moves: pinning is taking the address.
    public override MemoryHandle Pin(int elementIndex = 0) => new(_start + elementIndex, default, this);

    public override void Unpin() { }

    // Only the finalizer frees: a blob's memory is shared by whoever holds it, and none of them owns it.
    protected override void Dispose(bool disposing) { }
}
