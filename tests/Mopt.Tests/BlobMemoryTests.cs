using System.Runtime.InteropServices;
using Mopt.Dialects.Onnx;
using Mopt.Ir;

namespace Mopt.Tests;

/// <summary>
/// ResourceTable.Allocate, the memory passes write new weights into: carved from pooled blocks the table holds as it
/// holds mapped files, so a released table's blobs throw ObjectDisposedException (never read the block's next bytes), a
/// clone keeps them readable, and the blocks go back to the pool to be written again; 4 MB and more is a NativeBuffer,
/// and a constant written inline an array.
/// </summary>
public sealed class BlobMemoryTests
{
    private static MappedFile BlockOf(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetMemoryManager<byte, MappedMemory>(bytes, out var manager) ? manager.File : throw new InvalidOperationException("not a block's bytes");

    /// <summary>Where the slice starts in memory: its block is a pinned array.</summary>
    private static long Address(Memory<byte> memory)
    {
        Assert.True(MemoryMarshal.TryGetMemoryManager<byte, MappedMemory>(memory, out var manager, out int start, out _));
        return Marshal.UnsafeAddrOfPinnedArrayElement(manager.File.Block!, checked((int)manager.Offset + start));
    }

    [Fact]
    public void Blobs_written_into_allocated_memory_read_back_apart_aligned_and_in_few_blocks()
    {
        var table = new ResourceTable();
        var lengths = new[] { 100, 4096, 1, 70_000, 333, 200_000, 65 };
        var keys = new List<string>();
        var blocks = new HashSet<MappedFile>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < lengths.Length; i++)
        {
            var memory = table.Allocate(lengths[i]);
            Assert.Equal(lengths[i], memory.Length);
            Assert.Equal(0, Address(memory) % 32);
            RandomBytes.Of(lengths[i], i).CopyTo(memory);
            keys.Add(table.Add("w", ResourceBlob.Of(memory)));
            blocks.Add(BlockOf(memory));
        }
        // every blob still holds its own bytes: none was carved over another
        for (int i = 0; i < lengths.Length; i++) Assert.Equal(RandomBytes.Of(lengths[i], i), table[keys[i]].Data.ToArray());
        Assert.InRange(blocks.Count, 1, 2); // 256 KB, then 512 KB
        Assert.All(blocks, block => Assert.Equal(MappedFile.ComputedWeights, block.Path));
        Assert.Equal(Memory<byte>.Empty, table.Allocate(0));
    }

    [Fact]
    public void A_released_tables_blobs_throw_a_clones_stay_readable_until_it_lets_go_too()
    {
        var module = MirModule.Create();
        var memory = module.Resources.Allocate(1000);
        RandomBytes.Of(1000, 7).CopyTo(memory);
        var key = module.Resources.Add("w", ResourceBlob.Of(memory));
        var clone = module.Clone(new Dictionary<Value, Value>());

        module.Resources.ReleaseFiles();
        Assert.True(BlockOf(memory).IsMapped); // the clone still holds the block
        Assert.Equal(RandomBytes.Of(1000, 7), clone.Resources[key].Data.ToArray());

        clone.Resources.ReleaseFiles();
        Assert.False(BlockOf(memory).IsMapped);
        Assert.Throws<ObjectDisposedException>(() => clone.Resources[key].Data.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => memory.Span.Length);

        // the table can still make blobs, in another block than the released one
        var later = module.Resources.Allocate(1000);
        Assert.NotSame(BlockOf(memory), BlockOf(later));
        RandomBytes.Of(1000, 8).CopyTo(later);
        Assert.Equal(RandomBytes.Of(1000, 8), later.ToArray());
        Assert.Throws<ObjectDisposedException>(() => memory.Span.Length); // never the new bytes
    }

    [Fact]
    public void A_released_block_is_written_again_by_the_next_table_its_old_blobs_throwing()
    {
        var pool = new BlockPool();
        var first = new ResourceTable();
        var arena = new BlobArena(pool);
        var old = arena.Allocate(50_000, first);
        RandomBytes.Of(50_000, 1).CopyTo(old);
        var block = BlockOf(old).Block;
        first.ReleaseFiles(); // the block goes back to the pool

        var second = new ResourceTable();
        var fresh = new BlobArena(pool).Allocate(50_000, second);
        Assert.Same(block, BlockOf(fresh).Block);
        RandomBytes.Of(50_000, 2).CopyTo(fresh);
        Assert.Throws<ObjectDisposedException>(() => old.Span.Length);
        Assert.Equal(RandomBytes.Of(50_000, 2), fresh.ToArray());
    }

    [Fact]
    public void Each_next_block_is_twice_the_last_and_a_blob_larger_than_that_gets_a_block_its_size()
    {
        var pool = new BlockPool();
        var table = new ResourceTable();
        var arena = new BlobArena(pool);
        var a = arena.Allocate(200_000, table);
        var b = arena.Allocate(200_000, table); // does not fit what is left of the first block
        Assert.Equal(256 << 10, BlockOf(a).Block!.Length);
        Assert.Equal(512 << 10, BlockOf(b).Block!.Length);
        var c = arena.Allocate(3_000_000, table);
        Assert.True(BlockOf(c).Block!.Length >= 3_000_000);
    }

    [Fact]
    public void Four_megabytes_and_more_are_a_native_buffer_and_a_constant_written_inline_an_array()
    {
        var table = new ResourceTable();
        Assert.True(MemoryMarshal.TryGetMemoryManager<byte, NativeBuffer>(table.Allocate(NativeBuffer.MinBytes), out _));
        var module = MirModule.Create();
        Assert.True(MemoryMarshal.TryGetArray<byte>(Constants.Allocate(module, Constants.InlineLimit), out var array));
        Assert.Equal(Constants.InlineLimit, array.Count);
        Assert.False(MemoryMarshal.TryGetArray<byte>(Constants.Allocate(module, Constants.InlineLimit + 1), out _));
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    [InlineData("bf16")]
    [InlineData("f64")]
    public void Constants_EncodeFloats_writes_what_ElementCodec_encodes_into_the_modules_memory(string type)
    {
        var element = type switch { "f32" => ElementType.F32, "f16" => ElementType.F16, "bf16" => ElementType.BF16, _ => ElementType.F64 };
        var module = MirModule.Create();
        var values = Enumerable.Range(0, 100).Select(i => Math.Sin(i) * 1e3 + 1e-7 * i).ToArray();
        var bytes = Constants.EncodeFloats(module, values, element);
        Assert.Equal(ElementCodec.EncodeFloats(values, element), bytes.ToArray());
        Assert.True(MemoryMarshal.TryGetMemoryManager<byte, MappedMemory>(bytes, out _)); // 200+ bytes: a blob's memory
        Assert.True(MemoryMarshal.TryGetArray<byte>(Constants.EncodeFloats(module, values.AsSpan(0, 4), ElementType.F32), out _)); // 16: inline
        Assert.Throws<ArgumentException>(() => ElementCodec.EncodeFloats(values, element, new byte[3]));
    }
}
