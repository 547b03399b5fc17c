namespace Mopt.Ir;

/// <summary>
/// Pinned arrays that whole files are read into (<see cref="WholeFile.ReadOrMap(string)"/>) and that come back when the
/// file's bytes are let go (<see cref="MappedFile"/>), so that a process reading models again and again reads each into
/// memory it has already touched. A fresh page costs a page fault, and where the kernel runs under a hypervisor's shadow page
/// tables a fault or a mapping costs ten times what it does on bare metal (measured here: 10 us a page; mapping MTCNN
/// det2's 400 KB caffemodel and unmapping it 40 us, reading it into memory already touched 9 us).
/// <para>
/// The process's first request gets no block: the caller maps that file, or reads a small one into an array of its own
/// (a new block would be all fresh pages, and a process that reads one model, the command line's, never reuses it).
/// Blocks given back are held weakly: the next full collection takes those not in use, so the pool holds memory only
/// while the process keeps reading.
/// </para>
/// </summary>
internal sealed class FileBlockPool
{
    /// <summary>The pool <see cref="WholeFile.ReadOrMap(string)"/> uses.</summary>
    public static FileBlockPool Shared { get; } = new();

    /// <summary>Blocks kept for reuse at most: a process that reads models of a few sizes in turn finds one for each.</summary>
    private const int MaxFree = 4;

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
            DropCollected();
            int best = -1;
            for (int i = 0; i < _free.Count; i++)
            {
                long size = Length(_free[i]);
                if (size >= length && (best < 0 || size < Length(_free[best]))) best = i;
            }
            if (best >= 0 && _free[best].TryGetTarget(out var found))
            {
                _free.RemoveAt(best);
                return found;
            }
            if (!_asked)
            {
                _asked = true;
                return null;
            }
        }
        return GC.AllocateUninitializedArray<byte>((int)Math.Min((length + Granule - 1) / Granule * Granule, Array.MaxLength), pinned: true);
    }

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
