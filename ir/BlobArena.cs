namespace Mopt.Ir;

/// <summary>
/// Memory for the weights passes compute for one <see cref="ResourceTable"/> (<see cref="ResourceTable.Allocate"/>),
/// carved from a few pooled blocks (<see cref="BlockPool"/>) that the table owns as it owns the files its blobs were
/// read from: they go back to the pool when the table lets its files go. A deploy that folds batch norms makes as many
/// bytes of new weights as the model has; in new arrays each run, a process deploying model after model (a server, the
/// benchmark) had the collector commit and decommit memory every run, at a page fault per 4 KiB touched again.
/// </summary>
internal sealed class BlobArena
{
    /// <summary>The first block's size; each next one is twice the last, up to <see cref="MaxChunk"/>.</summary>
    private const int FirstChunk = 256 << 10;
    private const int MaxChunk = 4 << 20;
    /// <summary>Each blob starts at an address that is a multiple of this (a vector's width), as a new array's would be at least 8.</summary>
    private const int Alignment = 32;

    private readonly BlockPool _pool;
    private MappedFile? _chunk;
    private long _used;
    private int _chunks;

    public BlobArena(BlockPool pool) => _pool = pool;

    /// <summary>
    /// <paramref name="length"/> uninitialized bytes from the current block, or from a new one that
    /// <paramref name="owner"/> takes a reference on.
    /// </summary>
    public Memory<byte> Allocate(int length, ResourceTable owner)
    {
        long at = _chunk?.AlignUp(_used, Alignment) ?? 0;
        if (_chunk is null || at + length > _chunk.Length)
        {
            long size = Math.Max(length + Alignment, Math.Min((long)FirstChunk << Math.Min(_chunks, 8), MaxChunk));
            _chunk = MappedFile.ForWrites(_pool, _pool.Rent(size));
            _chunks++;
            owner.OwnFile(_chunk);
            at = _chunk.AlignUp(0, Alignment);
        }
        _used = at + length;
        return _chunk.WritableSlice(at, length);
    }
}
