using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>The 8-bit integer type a tensor is quantized to.</summary>
public enum QuantType { Int8, UInt8 }

/// <summary>
/// How one tensor (or one channel of it) maps to integers, as ONNX's QuantizeLinear/DequantizeLinear read it:
/// <c>q = saturate(round_half_even(x / Scale) + ZeroPoint)</c>, <c>x ≈ (q - ZeroPoint) * Scale</c>.
/// </summary>
public readonly record struct QuantParams(float Scale, int ZeroPoint);

/// <summary>Scales, zero points and the quantize/dequantize arithmetic of ONNX's linear quantization.</summary>
public static class QuantMath
{
    public static int Min(QuantType t) => t == QuantType.Int8 ? -128 : 0;
    public static int Max(QuantType t) => t == QuantType.Int8 ? 127 : 255;

    public static ElementType ElementOf(QuantType t) => t == QuantType.Int8 ? ElementType.I8 : ElementType.UI8;

    /// <summary>
    /// The parameters that cover [min, max]. The range is widened to include 0, so that zero (padding, ReLU) is exact.
    /// Symmetric: zero point 0 for int8 (128 for uint8) and the range ±max(|min|, |max|) over [-127, 127] (as ONNX
    /// Runtime does, so that -128 is never used and int8 products cannot overflow in pairs). Asymmetric: the full
    /// [qmin, qmax] over [min, max]. A range of zero width gets scale 1.
    /// </summary>
    public static QuantParams ForRange(float min, float max, QuantType type, bool symmetric)
    {
        if (!float.IsFinite(min) || !float.IsFinite(max) || min > max)
            throw new ArgumentException($"cannot quantize the range [{min}, {max}]");
        double lo = Math.Min(min, 0.0), hi = Math.Max(max, 0.0);
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
    /// (per output channel): one <see cref="QuantParams"/> per slice, and the quantized bytes in the tensor's layout.
    /// </summary>
    public static (QuantParams[] Params, byte[] Data) QuantizeTensor(ReadOnlySpan<float> values, IReadOnlyList<long> shape, int? axis, QuantType type, bool symmetric)
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
