using System.IO.Compression;
using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--round-weights='bits=8'</c>: snaps each float weight tensor to 2^bits evenly spaced levels between its
/// minimum and maximum, still stored as floats. The model keeps its format and runs anywhere, but its weights
/// now hold few distinct values, so the file compresses far better.
/// <code>
/// step = (max - min) / (2^bits - 1)
/// w'   = min + round((w - min) / step) * step        (|w' - w| ≤ step / 2)
/// </code>
/// Applies to float constants (operations whose definitions are <see cref="IConstantLike"/>: f16, bf16, f32, f64) with at least <c>min-size</c> elements, so biases and norms stay
/// exact; a tensor whose values are all equal, or that holds inf or nan, is left as it is.
/// Statistics give the gzip size of the rounded tensors before and after (compressed only when statistics are read:
/// <c>--pass-statistics</c>, <c>--timing</c>, <c>--debug</c>).
/// </summary>
public sealed class RoundWeights : Pass
{
    private readonly PassOption<int> _bits = new("bits", "levels = 2^bits per tensor", 8, valid: b => b is >= 1 and <= 16);
    private readonly PassOption<long> _minSize = new("min-size", "smallest tensor (in elements) to round", 1024, valid: n => n >= 1);

    public override string Name => "round-weights";
    public override string Summary => "Snap float weights to 2^bits levels between their min and max (still floats; compresses far better)";
    public override IReadOnlyList<PassOption> Options => [_bits, _minSize];

    public override void Run(MirModule module, PassContext context)
    {
        long levels = 1L << _bits.Value;
        long gzipBefore = 0, gzipAfter = 0;
        var replacedKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var op in module.AllOperations().ToList())
        {
            if (context.Dialects.Interface<IConstantLike>(op) is not { } constant) continue;
            var valueAttr = constant.ValueAttribute(op);
            if (Constants.TryGet(valueAttr, module) is not { } tensor || !tensor.Type.Element.IsFloat) continue;
            if (tensor.ElementCount < _minSize.Value) continue;

            var values = tensor.ToFloats();
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (var v in values)
            {
                if (!float.IsFinite(v)) { min = float.NaN; break; }
                if (v < min) min = v;
                if (v > max) max = v;
            }
            if (float.IsNaN(min)) { context.Skip(op, "holds inf or nan"); continue; }
            if (max == min) continue;

            double step = ((double)max - min) / (levels - 1);
            var rounded = new float[values.Length];
            for (int i = 0; i < values.Length; i++)
                rounded[i] = (float)(min + Math.Round((values[i] - (double)min) / step) * step);

            byte[] bytes = ElementCodec.EncodeFloats(rounded, tensor.Type.Element);
            if (context.StatisticsWanted)
            {
                gzipBefore += GzipSize(tensor.Bytes.Span);
                gzipAfter += GzipSize(bytes);
            }
            if (valueAttr is DenseResourceAttr old) replacedKeys.Add(old.Key);
            var key = module.Resources.Add(op.Location.FirstName ?? "weight", ResourceBlob.Of(bytes));
            constant.SetValueAttribute(op, new DenseResourceAttr(tensor.Type, key));
            context.Count("tensors rounded");
        }
        module.RemoveUnreferencedBlobs(replacedKeys);
        if (gzipBefore > 0)
        {
            context.Count("gzip bytes before", gzipBefore);
            context.Count("gzip bytes after", gzipAfter);
            context.Log($"gzip size of the rounded tensors: {gzipBefore} -> {gzipAfter} bytes ({100.0 * (gzipBefore - gzipAfter) / gzipBefore:F1}% smaller)");
        }
    }

    /// <summary>What gzip makes of these bytes (the default level, as `gzip` on the command line).</summary>
    public static long GzipSize(ReadOnlySpan<byte> bytes)
    {
        using var counter = new CountingStream();
        using (var gzip = new GZipStream(counter, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(bytes);
        return counter.Length;
    }

    /// <summary>A stream that only counts what is written to it.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }
}
