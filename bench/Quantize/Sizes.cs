using Google.Protobuf;
using Mopt.Onnx.Proto;

namespace Mopt.Bench.Quantize;

/// <summary>
/// A model file's size, its gzip -9 size (zlib's best compression, what <c>gzip -9</c> does, in a gzip frame) and the gzip
/// size of its weights alone: the bytes of every initializer (raw_data, else the serialized tensor) concatenated in file order.
/// </summary>
public sealed record FileSizes(long Bytes, long Gzip, long WeightBytes, long WeightsGzip)
{
    public static FileSizes Of(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var model = ModelProto.Parser.ParseFrom(bytes);
        using var weights = new MemoryStream();
        foreach (var t in model.Graph.Initializer)
        {
            ReadOnlySpan<byte> data = t.HasRawData ? t.RawData.Span : t.ToByteArray();
            weights.Write(data);
        }
        return new FileSizes(bytes.LongLength, GzipSize(bytes), weights.Length, GzipSize(weights.ToArray()));
    }

    public static long GzipSize(byte[] data) => BenchSupport.GzipSize(new MemoryStream(data, writable: false));
}
