namespace Mopt.Ir;

/// <summary>
/// Pinned arrays that whole files are read into (<see cref="WholeFile.ReadOrMap(string)"/>) and that passes write the
/// weights they compute into (<see cref="ResourceTable.Allocate"/>), which come back when those bytes are let go
/// (<see cref="MappedFile"/>), so that a process reading and rewriting models again and again does it in memory it has
/// already touched. A fresh page costs a page fault, and where the kernel runs under a hypervisor's shadow page tables a
/// fault or a mapping costs ten times what it does on bare metal (measured here: 10 us a page; mapping MTCNN det2's
/// 400 KB caffemodel and unmapping it 40 us, reading it into memory already touched 9 us).
/// <para>
/// The process's first request for a file's block gets none: the caller maps that file, or reads a small one into an
/// array of its own (a new block would be all fresh pages, and a process that reads one model, the command line's,
/// never reuses it). Blocks given back are held weakly: the next full collection takes those not in use, so the pool
/// holds memory only while the process keeps reading.
/// </para>
/// </summary>
internal sealed class BlockPool
{
    /// <summary>The pool <see cref="WholeFile.ReadOrMap(string)"/> and <see cref="ResourceTable.Allocate"/> use.</summary>
    public static BlockPool Shared { get; } = new();

    /// <summary>
    /// Blocks kept for reuse at most: a process that reads and rewrites models of a few sizes in turn finds one for each
    /// file and each of the few blocks a table's computed weights take.
    /// </summary>
    private const int MaxFree = 8;

    /// <summary>Blocks are whole multiples of this, so that files of nearly the same size share them.</summary>
    private const int Granule = 64 << 10;

    private readonly List<WeakReference<byte[]>> _free = [];
    private bool _asked;

    /// <summary>
    /// A block of at least <paramref name="length"/> bytes (pinned: its address does not move): the smallest free one,
    /// else a new one; null for the process's first request.
    /// </summary>
    public byte[]? TryRent(long length)
    {
        lock (_free)
        {
            if (TakeFree(length) is { } found) return found;
            if (!_asked)
            {
                _asked = true;
                return null;
            }
        }
        return NewBlock(length);
    }

    /// <summary>A block of at least <paramref name="length"/> bytes, as <see cref="TryRent"/> but never null (for memory a pass writes).</summary>
    public byte[] Rent(long length)
    {
        lock (_free)
            if (TakeFree(length) is { } found) return found;
        return NewBlock(length);
    }

    /// <summary>The smallest free block of at least <paramref name="length"/> bytes, taken out of the pool; else null. Under the lock.</summary>
    private byte[]? TakeFree(long length)
    {
        DropCollected();
        int best = -1;
        for (int i = 0; i < _free.Count; i++)
        {
            long size = Length(_free[i]);
            if (size >= length && (best < 0 || size < Length(_free[best]))) best = i;
        }
        if (best < 0 || !_free[best].TryGetTarget(out var found)) return null;
        _free.RemoveAt(best);
        return found;
    }

    private static byte[] NewBlock(long length) =>
        GC.AllocateUninitializedArray<byte>((int)Math.Min((length + Granule - 1) / Granule * Granule, Array.MaxLength), pinned: true);

    /// <summary>Takes back a block from <see cref="TryRent"/> whose bytes nothing reads any more.</summary>
    public void Return(byte[] block)
    {
        lock (_free)
        {
            DropCollected();
            if (_free.Count >= MaxFree)
            {
                // Full: the smallest block goes (the one a later file is least likely to fit), unless it is this one.
                int smallest = 0;
                for (int i = 1; i < _free.Count; i++)
                    if (Length(_free[i]) < Length(_free[smallest])) smallest = i;
                if (Length(_free[smallest]) >= block.Length) return;
                _free.RemoveAt(smallest);
            }
            _free.Add(new WeakReference<byte[]>(block));
        }
    }

    /// <summary>Forgets the blocks the collector took (a weak reference with no target any more).</summary>
    private void DropCollected() => _free.RemoveAll(static reference => !reference.TryGetTarget(out _));

    private static long Length(WeakReference<byte[]> reference) => reference.TryGetTarget(out var block) ? block.Length : -1;
}
