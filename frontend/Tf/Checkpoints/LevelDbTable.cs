using System.Buffers.Binary;
using System.Text;
using Mopt.Ir;

namespace Mopt.Frontend.Tf.Checkpoints;

/// <summary>
/// Reads a whole LevelDB-format table, the format of a tensor bundle's <c>.index</c> file (TensorFlow's
/// core/lib/io/table_format.txt): data blocks of prefix-compressed keys with restart points, each followed by a
/// 5-byte trailer (compression type, masked crc32c of the block and that byte); an index block whose values are the
/// data blocks' handles; a 48-byte footer with the metaindex and index handles (varint64 offset and size, padded)
/// and the magic number. Every checksum is checked. Blocks may be snappy-compressed (older TensorFlow wrote them so).
/// </summary>
public sealed class LevelDbTable
{
    public const ulong Magic = 0xdb4775248b80fb57;
    public const int FooterSize = 48;
    private const int TrailerSize = 5;

    private readonly byte[] _file;
    private readonly string _name;

    private LevelDbTable(byte[] file, string name)
    {
        _file = file;
        _name = name;
    }

    private readonly record struct BlockHandle(long Offset, long Size);

    /// <summary>The table's entries in key order; <paramref name="name"/> is the file, for messages.</summary>
    public static IReadOnlyList<KeyValuePair<string, byte[]>> Read(byte[] file, string name) => new LevelDbTable(file, name).ReadAll();

    private MirException Bad(string why) => new($"'{_name}': not a TensorFlow checkpoint index: {why}");

    private List<KeyValuePair<string, byte[]>> ReadAll()
    {
        if (_file.Length < FooterSize) throw Bad(_file.Length == 0 ? "the file is empty" : "the file is truncated (shorter than a table footer)");
        var footer = _file.AsSpan(_file.Length - FooterSize);
        if (BinaryPrimitives.ReadUInt64LittleEndian(footer[40..]) != Magic) throw Bad("no table magic number at its end (truncated, or another file)");
        int pos = 0;
        ReadHandle(footer, ref pos); // the metaindex: a tensor bundle has no meta blocks
        var index = ReadHandle(footer, ref pos);

        var entries = new List<KeyValuePair<string, byte[]>>();
        foreach (var (_, handle) in Entries(ReadBlock(index, "index block")))
        {
            int hpos = 0;
            var data = ReadHandle(handle, ref hpos);
            foreach (var (key, value) in Entries(ReadBlock(data, $"data block at offset {data.Offset}")))
                entries.Add(new(Encoding.UTF8.GetString(key), value));
        }
        return entries;
    }

    private BlockHandle ReadHandle(ReadOnlySpan<byte> span, ref int pos)
    {
        long offset = (long)ReadVarint(span, ref pos, "a block handle");
        long size = (long)ReadVarint(span, ref pos, "a block handle");
        if (offset < 0 || size < 0 || offset + size + TrailerSize > _file.Length - FooterSize)
            throw Bad($"a block handle [{offset}, +{size}) points past the end of the file (truncated?)");
        return new BlockHandle(offset, size);
    }

    /// <summary>A block's contents, its checksum checked, decompressed.</summary>
    private byte[] ReadBlock(BlockHandle h, string what)
    {
        var contents = _file.AsSpan((int)h.Offset, (int)h.Size);
        byte type = _file[h.Offset + h.Size];
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(_file.AsSpan((int)(h.Offset + h.Size + 1), 4));
        // The crc covers the contents and the compression type byte.
        if (Crc32C.Unmask(stored) != Crc32C.Extend(Crc32C.Compute(contents), [type]))
            throw Bad($"the {what} does not match its crc32c (the file is corrupt)");
        return type switch
        {
            0 => contents.ToArray(),
            1 => Snappy(contents, what),
            _ => throw Bad($"the {what} has compression type {type} (only none and snappy exist)"),
        };
    }

    private byte[] Snappy(ReadOnlySpan<byte> contents, string what)
    {
        try { return Snappier.Snappy.DecompressToArray(contents); }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IndexOutOfRangeException)
        {
            throw Bad($"the {what} is not valid snappy data ({e.Message})");
        }
    }

    /// <summary>A block's (key, value) entries: each key is the previous one's first <c>shared</c> bytes plus its own.</summary>
    private List<(byte[] Key, byte[] Value)> Entries(byte[] block)
    {
        if (block.Length < 4) throw Bad("a block is too short to hold its restart count");
        uint restarts = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(block.Length - 4));
        long end = block.Length - 4 - 4L * restarts;
        if (end < 0) throw Bad($"a block claims {restarts} restart points, more than it has room for");
        var result = new List<(byte[], byte[])>();
        var span = block.AsSpan(0, (int)end);
        byte[] previous = [];
        int pos = 0;
        while (pos < span.Length)
        {
            ulong shared = ReadVarint(span, ref pos, "a block entry");
            ulong own = ReadVarint(span, ref pos, "a block entry");
            ulong valueLength = ReadVarint(span, ref pos, "a block entry");
            if (shared > (ulong)previous.Length || own > (ulong)(span.Length - pos) || valueLength > (ulong)(span.Length - pos) - own)
                throw Bad("a block entry runs past its block (the file is corrupt)");
            var key = new byte[(int)shared + (int)own];
            previous.AsSpan(0, (int)shared).CopyTo(key);
            span.Slice(pos, (int)own).CopyTo(key.AsSpan((int)shared));
            pos += (int)own;
            result.Add((key, span.Slice(pos, (int)valueLength).ToArray()));
            pos += (int)valueLength;
            previous = key;
        }
        return result;
    }

    private ulong ReadVarint(ReadOnlySpan<byte> span, ref int pos, string what)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= span.Length) throw Bad($"{what} runs past its block (the file is truncated or corrupt)");
            byte b = span[pos++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw Bad($"{what} has a varint longer than 64 bits (the file is corrupt)");
    }
}
