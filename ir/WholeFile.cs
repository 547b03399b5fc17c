using System.Buffers;

namespace Mopt.Ir;

/// <summary>Reads a whole file into one array.</summary>
public static class WholeFile
{
    /// <summary>
    /// The file's bytes. Not File.ReadAllBytes: on Linux it opens with FileOptions.SequentialScan, and measured here it
    /// took 0.7 ms for a 240 KB file that an open and one pread read in 0.03 ms (bench/run.sh tf times imports of that size).
    /// The array is not zeroed first (the read fills every byte, or throws): zeroing was a quarter of the time of
    /// reading landmark106's 1.4 MB caffemodel.
    /// </summary>
    public static byte[] Read(string path)
    {
        using var file = ReadOnlyFile.Open(path);
        return ReadAll(file);
    }

    /// <summary>
    /// The file's bytes for a reader of all of them that keeps slices (a caffemodel's weights, which all go to the
    /// output): read into a block of <see cref="BlockPool.Shared"/>, memory the process has touched before (files up
    /// to 64 MB); when the pool has none to give (the process's first request: see there), mapped from
    /// <see cref="MapFrom"/> on (<see cref="MappedFile.MapWhole"/>, every page at once and kept), else read into a new
    /// array. A fresh page costs a page fault, which under a hypervisor's shadow page tables costs ten times what it
    /// does on bare metal: measured in C here, MTCNN det2's 400 KB caffemodel took 9 us to read into memory already
    /// touched, 40 us to map and unmap, 480 us to read into fresh memory (det3's 1.5 MB: 40, 99 and 1,650 us). Even
    /// det1's 28 KB read into a new array each run cost its deploy 15% against a block (bench/run.sh caffe: the array
    /// is memory the collector's allocator has not touched since its last pass through gen0).
    /// </summary>
    public static ReadOnlyMemory<byte> ReadOrMap(string path) => ReadOrMap(path, BlockPool.Shared);

    /// <summary><see cref="ReadOrMap(string)"/> with blocks of <paramref name="pool"/>.</summary>
    internal static ReadOnlyMemory<byte> ReadOrMap(string path, BlockPool pool)
    {
        using var file = ReadOnlyFile.Open(path);
        long length = file.Length;
        if (length > 0 && length <= PooledLimit && pool.TryRent(length) is { } block)
            return MappedFile.ReadWhole(file, pool, block).Slice(0, (int)length);
        if (length >= MapFrom && OperatingSystem.IsLinux())
        {
            // A file system that cannot map (some FUSE ones) is read instead: mapping is only the faster way.
            try { return MappedFile.MapWhole(file).Slice(0, (int)length); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return ReadAll(file);
    }

    private static byte[] ReadAll(ReadOnlyFile file)
    {
        var bytes = GC.AllocateUninitializedArray<byte>((int)file.Length);
        file.Fill(bytes);
        return bytes;
    }

    /// <summary>
    /// Files from this size on are mapped by <see cref="ReadOrMap(string)"/> when no pooled block is to be had: below it
    /// an open and one pread into a new array was as cheap (det1's 28 KB: 0.007 against 0.012 ms, in C).
    /// </summary>
    public const long MapFrom = 256L << 10;

    /// <summary>
    /// The file's text as <see cref="File.ReadAllText(string)"/> reads it (UTF-8, a byte-order mark naming another
    /// encoding honoured), read with one pread into a pooled buffer and decoded at once: ReadAllText's FileStream and
    /// StreamReader cost a lock, buffers and a StringBuilder (a seventh of reading landmark106's 31 KB prototxt, measured).
    /// </summary>
    public static string ReadText(string path) =>
        // UTF-16 or UTF-32: rare, left to ReadAllText
        Parse(path, static bytes => IsUtf16Or32(bytes) ? null : System.Text.Encoding.UTF8.GetString(WithoutUtf8Mark(bytes))) ?? File.ReadAllText(path);

    /// <summary>
    /// The file's text as <see cref="ReadText"/> decodes it, in a pooled buffer that <see cref="LentText.Dispose"/> gives
    /// back: a reader that keeps nothing of the text itself (the Caffe importer, whose prototxt becomes wire bytes) makes
    /// no string of the file (MTCNN det2's 3 KB prototxt was a 6 KB string, a twentieth of what its deploy allocated).
    /// </summary>
    public static LentText LendText(string path) =>
        Parse(path, static bytes => IsUtf16Or32(bytes) ? (LentText?)null : LentText.Decode(WithoutUtf8Mark(bytes)))
        ?? new LentText(File.ReadAllText(path).AsMemory(), null);

    /// <summary>Whether the bytes start with the byte-order mark of UTF-16 (either order) or UTF-32 big-endian (UTF-32 little-endian starts as UTF-16 does).</summary>
    private static bool IsUtf16Or32(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xFE, 0xFF]);

    private static ReadOnlySpan<byte> WithoutUtf8Mark(ReadOnlySpan<byte> bytes) => bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes[3..] : bytes;

    /// <summary>What a parser that copies out what it keeps (protobuf) makes of the file's bytes.</summary>
    public delegate T SpanParser<out T>(ReadOnlySpan<byte> bytes);

    /// <summary>
    /// <paramref name="parse"/> of the file's bytes, read into a pooled buffer (files up to 64 MB): a process that reads
    /// many files then reuses memory it has touched, where a fresh array costs a page fault per 4 KB (measured: 0.7 ms
    /// of a 1.4 ms import of a 240 KB graph, in-process in bench/run.sh tf).
    /// </summary>
    public static T Parse<T>(string path, SpanParser<T> parse)
    {
        using var file = ReadOnlyFile.Open(path);
        long length = file.Length;
        if (length > PooledLimit)
        {
            var bytes = new byte[length];
            file.Fill(bytes);
            return parse(bytes);
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            file.Fill(buffer.AsSpan(0, (int)length));
            return parse(buffer.AsSpan(0, (int)length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The largest file <see cref="Parse{T}"/> reads into a pooled buffer and <see cref="ReadOrMap(string)"/> into a pooled block (larger ones it maps).</summary>
    internal const long PooledLimit = 64L << 20;
}
