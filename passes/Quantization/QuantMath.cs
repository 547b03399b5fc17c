using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>The integer type a tensor is quantized to: 8-bit, or 4-bit (packed two to a byte, opset 21).</summary>
public enum QuantType { Int8, UInt8, Int4, UInt4 }

/// <summary>
/// How one tensor (or one channel of it) maps to integers, as ONNX's QuantizeLinear/DequantizeLinear read it:
/// <c>q = saturate(round_half_even(x / Scale) + ZeroPoint)</c>, <c>x ≈ (q - ZeroPoint) * Scale</c>.
/// </summary>
public readonly record struct QuantParams(float Scale, int ZeroPoint);

/// <summary>Scales, zero points and the quantize/dequantize arithmetic of ONNX's linear quantization.</summary>
public static class QuantMath
{
    public static int Min(QuantType t) => t switch { QuantType.Int8 => -128, QuantType.Int4 => -8, _ => 0 };
    public static int Max(QuantType t) => t switch { QuantType.Int8 => 127, QuantType.UInt8 => 255, QuantType.Int4 => 7, _ => 15 };

    public static ElementType ElementOf(QuantType t) => t switch
    {
        QuantType.Int8 => ElementType.I8, QuantType.UInt8 => ElementType.UI8, QuantType.Int4 => ElementType.I4, _ => ElementType.UI4,
    };

    public static bool IsFourBit(QuantType t) => t is QuantType.Int4 or QuantType.UInt4;

    /// <summary>The bytes of quantized values (one per byte as <see cref="Quantize(float, QuantParams, QuantType)"/> gives them) as the type stores them: 4-bit packed.</summary>
    public static byte[] Store(byte[] unpacked, QuantType t) => IsFourBit(t) ? ElementCodec.Pack4(unpacked) : unpacked;

    /// <summary>
    /// The parameters that cover [min, max]. The range is widened to include 0, so that zero (padding, ReLU) is exact.
    /// Symmetric: zero point 0 for int8 (128 for uint8) and the range ±max(|min|, |max|) over [-127, 127] (as ONNX
    /// Runtime does, so that -128 is never used and int8 products cannot overflow in pairs). Symmetric 4-bit follows
    /// ONNX Runtime's blockwise quantizer (MLAS <c>range2scale</c>, which its <c>matmul_4bits_quantizer</c> uses): the
    /// bound of larger magnitude, m, maps to -8 exactly, <c>scale = -m / 8</c> (negative when m is positive), so the
    /// whole [-8, 7] is used; zero point 0 (int4) or 8 (uint4). Asymmetric: the full [qmin, qmax] over [min, max].
    /// A range of zero width gets scale 1.
    /// </summary>
    public static QuantParams ForRange(float min, float max, QuantType type, bool symmetric)
    {
        if (!float.IsFinite(min) || !float.IsFinite(max) || min > max)
            throw new ArgumentException($"cannot quantize the range [{min}, {max}]");
        double lo = Math.Min(min, 0.0), hi = Math.Max(max, 0.0);
        if (symmetric && IsFourBit(type))
        {
            double m = Math.Abs(hi) > Math.Abs(lo) ? hi : lo;
            return new QuantParams(m == 0 ? 1f : (float)(-m / 8.0), type == QuantType.Int4 ? 0 : 8);
        }
        if (symmetric)
        {
            double absMax = Math.Max(-lo, hi);
            float scale = absMax == 0 ? 1f : (float)(absMax / 127.0);
            return new QuantParams(scale, type == QuantType.Int8 ? 0 : 128);
        }
        int qmin = Min(type), qmax = Max(type);
        if (hi == lo) return new QuantParams(1f, Math.Clamp(0, qmin, qmax));
        float s = (float)((hi - lo) / (qmax - qmin));
        int zp = (int)Math.Clamp(Math.Round(qmin - lo / s, MidpointRounding.ToEven), qmin, qmax);
        return new QuantParams(s, zp);
    }

    /// <summary>One value quantized as QuantizeLinear does (round half to even, then saturate).</summary>
    public static int Quantize(float x, QuantParams p, QuantType type)
    {
        double q = Math.Round(x / (double)p.Scale, MidpointRounding.ToEven) + p.ZeroPoint;
        return (int)Math.Clamp(q, Min(type), Max(type));
    }

    public static float Dequantize(int q, QuantParams p) => (q - p.ZeroPoint) * p.Scale;

    /// <summary>Quantizes <paramref name="values"/> into bytes (int8 stored as its two's-complement byte).</summary>
    public static void Quantize(ReadOnlySpan<float> values, QuantParams p, QuantType type, Span<byte> into)
    {
        for (int i = 0; i < values.Length; i++) into[i] = unchecked((byte)Quantize(values[i], p, type));
    }

    /// <summary>
    /// A weight tensor quantized per tensor (<paramref name="axis"/> null) or per slice along <paramref name="axis"/>
    /// (per output channel): one <see cref="QuantParams"/> per slice, and the quantized bytes in the tensor's layout
    /// (4-bit types packed two to a byte).
    /// </summary>
    public static (QuantParams[] Params, byte[] Data) QuantizeTensor(ReadOnlySpan<float> values, IReadOnlyList<long> shape, int? axis, QuantType type, bool symmetric)
    {
        var (parameters, data) = QuantizeTensorUnpacked(values, shape, axis, type, symmetric);
        return (parameters, Store(data, type));
    }

    private static (QuantParams[] Params, byte[] Data) QuantizeTensorUnpacked(ReadOnlySpan<float> values, IReadOnlyList<long> shape, int? axis, QuantType type, bool symmetric)
    {
        var data = new byte[values.Length];
        if (axis is not int a)
        {
            var (min, max) = MinMax(values);
            var p = ForRange(min, max, type, symmetric);
            Quantize(values, p, type, data);
            return ([p], data);
        }
        if (a < 0 || a >= shape.Count) throw new ArgumentException($"axis {a} is outside a rank-{shape.Count} tensor");
        long channels = shape[a];
        long inner = 1;
        for (int d = a + 1; d < shape.Count; d++) inner *= shape[d];
        long outer = channels == 0 ? 0 : values.Length / (channels * inner);
        var result = new QuantParams[channels];
        for (long c = 0; c < channels; c++)
        {
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            for (long o = 0; o < outer; o++)
                foreach (var v in values.Slice((int)((o * channels + c) * inner), (int)inner))
                {
                    // As MinMax: a NaN would slip past the comparisons and quantize to an arbitrary byte.
                    if (!float.IsFinite(v)) throw new ArgumentException("the tensor holds inf or nan");
                    if (v < min) min = v;
                    if (v > max) max = v;
                }
            if (inner == 0 || outer == 0) { min = 0; max = 0; }
            var p = result[c] = ForRange(min, max, type, symmetric);
            for (long o = 0; o < outer; o++)
            {
                int start = (int)((o * channels + c) * inner);
                Quantize(values.Slice(start, (int)inner), p, type, data.AsSpan(start, (int)inner));
            }
        }
        return (result, data);
    }

    /// <summary>
    /// A weight quantized in blocks of <paramref name="blockSize"/> along <paramref name="axis"/>, as opset 21's
    /// DequantizeLinear reads them (<c>block_size</c>): for every index of the other axes, elements
    /// <c>[j·B, min((j+1)·B, D))</c> of the axis share parameters j, so the last block is shorter when B does not divide
    /// the axis's length D. The parameters come in the scale tensor's row-major order, whose shape is the weight's
    /// with D replaced by <see cref="BlockCount"/>; the data is in the weight's layout (4-bit types packed).
    /// </summary>
    public static (QuantParams[] Params, byte[] Data) QuantizeBlocked(ReadOnlySpan<float> values, IReadOnlyList<long> shape, int axis, long blockSize,
        QuantType type, bool symmetric)
    {
        if (axis < 0 || axis >= shape.Count) throw new ArgumentException($"axis {axis} is outside a rank-{shape.Count} tensor");
        if (blockSize < 1) throw new ArgumentException($"block size {blockSize} is not positive");
        var (outer, dim, inner) = Split(shape, axis);
        long blocks = BlockCount(dim, blockSize);
        var parameters = new QuantParams[outer * blocks * inner];
        var data = new byte[values.Length];
        for (long o = 0; o < outer; o++)
            for (long j = 0; j < blocks; j++)
            {
                long start = j * blockSize, end = Math.Min(start + blockSize, dim);
                for (long i = 0; i < inner; i++)
                {
                    float min = float.PositiveInfinity, max = float.NegativeInfinity;
                    for (long d = start; d < end; d++)
                    {
                        float v = values[(int)((o * dim + d) * inner + i)];
                        if (!float.IsFinite(v)) throw new ArgumentException("the tensor holds inf or nan");
                        if (v < min) min = v;
                        if (v > max) max = v;
                    }
                    var p = parameters[(o * blocks + j) * inner + i] = ForRange(min, max, type, symmetric);
                    for (long d = start; d < end; d++)
                    {
                        long at = (o * dim + d) * inner + i;
                        data[at] = unchecked((byte)Quantize(values[(int)at], p, type));
                    }
                }
            }
        return (parameters, Store(data, type));
    }

    /// <summary>How many blocks of <paramref name="blockSize"/> cover <paramref name="dim"/> elements: ceil(dim / blockSize).</summary>
    public static long BlockCount(long dim, long blockSize) => (dim + blockSize - 1) / blockSize;

    /// <summary>The index of the parameters element <paramref name="index"/> of a tensor of <paramref name="shape"/> uses (null axis: 0; no block size: per slice).</summary>
    public static long ParamsIndex(long index, IReadOnlyList<long> shape, int? axis, long blockSize)
    {
        if (axis is not int a) return 0;
        var (_, dim, inner) = Split(shape, a);
        long o = index / (dim * inner), d = index / inner % dim, i = index % inner;
        return blockSize <= 0 ? d : (o * BlockCount(dim, blockSize) + d / blockSize) * inner + i;
    }

    private static (long Outer, long Dim, long Inner) Split(IReadOnlyList<long> shape, int axis)
    {
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Count; d++) inner *= shape[d];
        return (outer, shape[axis], inner);
    }

    /// <summary>The smallest and largest value; a NaN or infinity is an <see cref="ArgumentException"/>.</summary>
    public static (float Min, float Max) MinMax(ReadOnlySpan<float> values)
    {
        if (values.Length == 0) return (0, 0);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) throw new ArgumentException("the tensor holds inf or nan");
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }
}
