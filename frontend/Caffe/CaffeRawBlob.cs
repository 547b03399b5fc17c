using System.Runtime.InteropServices;
using Google.Protobuf;
using Mopt.Caffe.Proto;
using Mopt.Caffe.Proto.Weights;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// One BlobProto as the importer checks it: its shape (BlobShape, or the legacy num/channels/height/width) and its
/// values as little-endian bytes, floats or doubles. Read by <see cref="CaffeWeightsWalk"/> they are a slice of the
/// file's buffer; from a <see cref="WeightsBlob"/> the file's run as protobuf copied it (no per-value work); from a <see cref="BlobProto"/> (a blob written in the prototxt itself,
/// or a caffemodel read whole) they are copied out of its lists.
/// </summary>
internal sealed record CaffeRawBlob(long[]? Shape, long[] Legacy, ReadOnlyMemory<byte> Floats, ReadOnlyMemory<byte> Doubles)
{
    /// <summary>The legacy 4-D form of a blob that gives none (all 0), shared: never changed, as no blob's legacy form is.</summary>
    public static readonly long[] NoLegacyShape = [0, 0, 0, 0];

    public long FloatCount => Floats.Length / sizeof(float);
    public long DoubleCount => Doubles.Length / sizeof(double);

    public static CaffeRawBlob From(BlobProto b)
    {
        var floats = new float[b.Data.Count];
        b.Data.CopyTo(floats, 0);
        var doubles = new double[b.DoubleData.Count];
        b.DoubleData.CopyTo(doubles, 0);
        return new CaffeRawBlob(b.Shape?.Dim.ToArray(), [b.Num, b.Channels, b.Height, b.Width],
            MemoryMarshal.AsBytes(floats.AsSpan()).ToArray(), MemoryMarshal.AsBytes(doubles.AsSpan()).ToArray());
    }

    public static CaffeRawBlob From(WeightsBlob b) =>
        new(b.Shape?.Dim.ToArray(), [b.Num, b.Channels, b.Height, b.Width], Join(b.Data), Join(b.DoubleData));

    /// <summary>True when the blob declares values but holds no packed run (they were written one fixed32 each).</summary>
    public static bool Unpacked(WeightsBlob b)
    {
        if (b.Data.Count > 0 || b.DoubleData.Count > 0) return false;
        return DeclaresValues(b.Shape is { } s ? [.. s.Dim] : null, [b.Num, b.Channels, b.Height, b.Width]);
    }

    /// <summary>True when a blob of this shape (or, with none, this legacy 4-D form) holds at least one value.</summary>
    public static bool DeclaresValues(long[]? shape, long[] legacy)
    {
        var dims = shape ?? legacy;
        if (shape is null && Array.TrueForAll(legacy, d => d == 0)) return false;
        long count = 1;
        foreach (var d in dims) count *= d;
        return count != 0;
    }

    // One run (what Caffe writes) is taken as is when protobuf gave it an array of its own: ByteString is immutable and
    // the WeightsNet is dropped after the import, so the array is never shared with anything that could change it.
    private static byte[] Join(IReadOnlyList<ByteString> runs)
    {
        if (runs.Count == 0) return [];
        if (runs.Count == 1 && MemoryMarshal.TryGetArray(runs[0].Memory, out var segment)
            && segment.Offset == 0 && segment.Count == segment.Array!.Length)
            return segment.Array;
        var bytes = new byte[runs.Sum(r => r.Length)];
        int at = 0;
        foreach (var run in runs)
        {
            run.Span.CopyTo(bytes.AsSpan(at));
            at += run.Length;
        }
        return bytes;
    }
}
