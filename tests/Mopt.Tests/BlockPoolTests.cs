using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Mopt.Ir;

namespace Mopt.Tests;

/// <summary>
/// BlockPool: the blocks WholeFile.ReadOrMap reads files of up to 64 MB into once a process has asked before. Its
/// first request gets none (that file is mapped, or read into an array of its own when under 256 KB); a block given back is handed out again to a file it fits,
/// the smallest that fits first; at most eight are kept. A file read into a block is released as a mapped one is: its
/// slices then throw ObjectDisposedException, and never read what the block holds after it went back.
/// </summary>
public sealed class BlockPoolTests
{
    private const int Granule = 64 << 10;

    [Fact]
    public void The_first_request_gets_no_block_later_ones_a_new_one_rounded_up_to_64_KB()
    {
        var pool = new BlockPool();
        Assert.Null(pool.TryRent(100_000));
        var block = pool.TryRent(100_000);
        Assert.NotNull(block);
        Assert.Equal(2 * Granule, block.Length);
        Assert.Equal(Granule, pool.TryRent(Granule)!.Length);
    }

    [Fact]
    public void A_returned_block_is_handed_out_again_the_smallest_that_fits_first()
    {
        var pool = new BlockPool();
        Assert.Null(pool.TryRent(1));
        byte[] small = pool.TryRent(100_000)!, large = pool.TryRent(1_000_000)!;
        pool.Return(large);
        pool.Return(small);
        Assert.Same(small, pool.TryRent(90_000));
        Assert.Same(large, pool.TryRent(90_000)); // the small one is out: the large one fits too
        pool.Return(small);
        var fresh = pool.TryRent(small.Length + 1); // fits no free block: a new one
        Assert.NotSame(small, fresh);
        Assert.NotSame(large, fresh);
        Assert.Same(small, pool.TryRent(small.Length));
    }

    [Fact]
    public void At_most_eight_blocks_are_kept_the_smallest_going_first()
    {
        var pool = new BlockPool();
        Assert.Null(pool.TryRent(1));
        var blocks = Enumerable.Range(1, 9).Select(n => pool.TryRent(n * Granule)!).ToList();
        foreach (var block in blocks) pool.Return(block);
        // the 64 KB block was let go: a 64 KB request gets the smallest kept, 128 KB, and so on
        for (int i = 1; i < blocks.Count; i++) Assert.Same(blocks[i], pool.TryRent(Granule));
        Assert.NotSame(blocks[0], pool.TryRent(Granule));
    }

    [Fact]
    public void Rent_hands_out_a_block_even_as_the_first_request_and_takes_free_ones_first()
    {
        var pool = new BlockPool();
        var block = pool.Rent(100_000);
        Assert.Equal(2 * Granule, block.Length);
        pool.Return(block);
        Assert.Same(block, pool.Rent(Granule));
        Assert.Null(pool.TryRent(1)); // Rent did not use up the first file's request: that file is still mapped
    }

    [Fact]
    public void A_free_block_the_collector_took_is_forgotten_and_the_others_are_still_handed_out()
    {
        var pool = new BlockPool();
        Assert.Null(pool.TryRent(1));
        var kept = pool.TryRent(Granule)!;
        var returned = RentAndReturn(pool, 4 * Granule); // nothing else holds it: the next full collection takes it
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.False(returned.TryGetTarget(out _));
        pool.Return(kept); // after the collected one
        Assert.Same(kept, pool.TryRent(Granule));
        Assert.NotSame(kept, pool.TryRent(Granule)); // the collected one is not handed out: a new block
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference<byte[]> RentAndReturn(BlockPool pool, long length)
    {
        var block = pool.TryRent(length)!;
        pool.Return(block);
        return new WeakReference<byte[]>(block);
    }

    [Fact]
    public void Threads_renting_and_returning_while_the_collector_takes_free_blocks_never_share_one()
    {
        var pool = new BlockPool();
        Assert.Null(pool.TryRent(1));
        var inUse = new ConcurrentDictionary<byte[], bool>(ReferenceEqualityComparer.Instance);
        Parallel.For(0, 4, thread =>
        {
            var random = new Random(thread);
            for (int i = 0; i < 300; i++)
            {
                long length = random.Next(1, 4) * Granule;
                var block = pool.TryRent(length)!;
                Assert.True(block.Length >= length);
                Assert.True(inUse.TryAdd(block, true), "a block handed out twice");
                if (i % 50 == 0) GC.Collect(); // takes the free blocks, which the pool holds weakly
                Assert.True(inUse.TryRemove(block, out _));
                pool.Return(block);
            }
        });
    }

    private static string WriteFile(TempDir dir, string name, int length, int seed)
    {
        File.WriteAllBytes(dir.File(name), RandomBytes.Of(length, seed));
        return dir.File(name);
    }

    private static MappedFile FileOf(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetMemoryManager<byte, MappedMemory>(bytes, out var manager) ? manager.File : throw new InvalidOperationException("not a file's bytes");

    [Fact]
    public void ReadOrMap_maps_the_first_file_reads_later_ones_into_blocks_and_a_released_file_gives_its_block_back()
    {
        using var dir = new TempDir();
        string a = WriteFile(dir, "a.caffemodel", 300_000, 1), b = WriteFile(dir, "b.caffemodel", 200_000, 2);
        var pool = new BlockPool();

        var first = WholeFile.ReadOrMap(a, pool);
        Assert.Null(FileOf(first).Block); // mapped
        Assert.Equal(File.ReadAllBytes(a), first.ToArray());

        var second = WholeFile.ReadOrMap(a, pool);
        var file = FileOf(second);
        Assert.NotNull(file.Block);
        Assert.Equal(File.ReadAllBytes(a), second.ToArray());
        var slice = second.Slice(1000, 5000);
        Assert.Equal(File.ReadAllBytes(a).AsSpan(1000, 5000).ToArray(), slice.ToArray());

        file.AddOwner();
        file.RemoveOwner(); // the last owner lets go: the block goes back
        Assert.False(file.IsMapped);
        Assert.Throws<ObjectDisposedException>(() => slice.Span.Length);

        var third = WholeFile.ReadOrMap(b, pool); // b fits a's block
        Assert.Same(file.Block, FileOf(third).Block);
        Assert.Equal(File.ReadAllBytes(b), third.ToArray());
        Assert.Throws<ObjectDisposedException>(() => second.Span.Length); // never b's bytes
    }

    [Fact]
    public void A_small_file_is_read_into_an_array_of_its_own_when_the_pool_has_no_block_else_into_a_block()
    {
        using var dir = new TempDir();
        string small = WriteFile(dir, "s.caffemodel", 28_163, 3);
        var pool = new BlockPool();
        var first = WholeFile.ReadOrMap(small, pool);
        Assert.True(MemoryMarshal.TryGetArray(first, out var array));
        Assert.Equal(28_163, array.Array!.Length);
        Assert.Equal(File.ReadAllBytes(small), first.ToArray());

        var second = WholeFile.ReadOrMap(small, pool);
        Assert.Equal(Granule, FileOf(second).Block!.Length);
        Assert.Equal(File.ReadAllBytes(small), second.ToArray());
    }
}
