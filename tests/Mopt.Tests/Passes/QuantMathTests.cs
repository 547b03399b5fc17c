using Mopt.Passes.Quantization;

namespace Mopt.Tests.Passes;

/// <summary>
/// QuantMath against ONNX's QuantizeLinear definition: round half to even, saturation to the type's range, zero
/// exactly representable, symmetric and asymmetric parameters, and per-channel parameters on tensors worked by hand.
/// </summary>
public sealed class QuantMathTests
{
    private static readonly QuantParams Unit = new(1f, 0);

    [Theory]
    [InlineData(0.5f, 0)]
    [InlineData(1.5f, 2)]
    [InlineData(2.5f, 2)]
    [InlineData(-0.5f, 0)]
    [InlineData(-1.5f, -2)]
    [InlineData(-2.5f, -2)]
    [InlineData(2.4999f, 2)]
    [InlineData(2.5001f, 3)]
    public void RoundsHalfToEven(float x, int expected) => Assert.Equal(expected, QuantMath.Quantize(x, Unit, QuantType.Int8));

    [Theory]
    [InlineData(1000f, QuantType.Int8, 127)]
    [InlineData(-1000f, QuantType.Int8, -128)]
    [InlineData(127.5f, QuantType.Int8, 127)]
    [InlineData(-5f, QuantType.UInt8, 0)]
    [InlineData(300f, QuantType.UInt8, 255)]
    public void Saturates(float x, QuantType type, int expected) => Assert.Equal(expected, QuantMath.Quantize(x, Unit, type));

    [Fact]
    public void ZeroPointShiftsBeforeSaturating()
    {
        var p = new QuantParams(0.5f, 10);
        Assert.Equal(14, QuantMath.Quantize(2f, p, QuantType.Int8));   // 2 / 0.5 + 10
        Assert.Equal(127, QuantMath.Quantize(60f, p, QuantType.Int8)); // 120 + 10 saturates
        Assert.Equal(2f, QuantMath.Dequantize(14, p));
    }

    [Theory]
    [InlineData(0.3f, 2.0f)]
    [InlineData(-3f, -1f)]
    [InlineData(-1f, 3f)]
    [InlineData(-0.0173f, 5.91f)]
    public void ZeroIsExactInEveryRange(float min, float max)
    {
        foreach (var type in new[] { QuantType.Int8, QuantType.UInt8 })
            foreach (var symmetric in new[] { true, false })
            {
                var p = QuantMath.ForRange(min, max, type, symmetric);
                Assert.Equal(0f, QuantMath.Dequantize(QuantMath.Quantize(0f, p, type), p));
                // The range (widened to 0) is covered: its ends come back within half a step.
                foreach (var end in new[] { Math.Min(min, 0f), Math.Max(max, 0f) })
                    Assert.True(Math.Abs(QuantMath.Dequantize(QuantMath.Quantize(end, p, type), p) - end) <= p.Scale / 2 * 1.0001,
                        $"{type} symmetric={symmetric} [{min}, {max}]: {end} comes back as {QuantMath.Dequantize(QuantMath.Quantize(end, p, type), p)}");
            }
    }

    [Fact]
    public void SymmetricAndAsymmetricParameters()
    {
        Assert.Equal(new QuantParams(2f / 127, 0), QuantMath.ForRange(-2f, 1f, QuantType.Int8, symmetric: true));
        Assert.Equal(new QuantParams(2f / 127, 128), QuantMath.ForRange(-2f, 1f, QuantType.UInt8, symmetric: true));
        // [-1, 3] over [-128, 127]: scale 4/255, zero point round(-128 + 1 / (4/255)) = round(-64.25) = -64.
        Assert.Equal(new QuantParams(4f / 255, -64), QuantMath.ForRange(-1f, 3f, QuantType.Int8, symmetric: false));
        Assert.Equal(new QuantParams(4f / 255, 64), QuantMath.ForRange(-1f, 3f, QuantType.UInt8, symmetric: false));
        Assert.Equal(new QuantParams(1f, 0), QuantMath.ForRange(0f, 0f, QuantType.Int8, symmetric: true));
        Assert.Throws<ArgumentException>(() => QuantMath.ForRange(float.NaN, 1f, QuantType.Int8, true));
    }

    [Fact]
    public void PerChannelParametersOnAKnownTensor()
    {
        // [2, 3]: rows [1, -2, 0.5] and [0.1, 0.2, -0.3].
        float[] w = [1f, -2f, 0.5f, 0.1f, 0.2f, -0.3f];
        var (rows, rowData) = QuantMath.QuantizeTensor(w, [2, 3], 0, QuantType.Int8, symmetric: true);
        Assert.Equal([new QuantParams(2f / 127, 0), new QuantParams(0.3f / 127, 0)], rows);
        // 1 / (2/127) = 63.5 -> 64 (even); -2 -> -127; 0.5 -> 31.75 -> 32; 0.1 / (0.3/127) = 42.33 -> 42; 84.67 -> 85; -127.
        Assert.Equal(new sbyte[] { 64, -127, 32, 42, 85, -127 }, rowData.Select(b => unchecked((sbyte)b)));

        var (cols, _) = QuantMath.QuantizeTensor(w, [2, 3], 1, QuantType.Int8, symmetric: true);
        Assert.Equal([1f / 127, 2f / 127, 0.5f / 127], cols.Select(p => p.Scale));

        var (whole, _) = QuantMath.QuantizeTensor(w, [2, 3], null, QuantType.Int8, symmetric: true);
        Assert.Equal([new QuantParams(2f / 127, 0)], whole);
    }

    [Fact]
    public void PerChannelOnAMiddleAxisGathersEveryOuterSlice()
    {
        // [2, 2, 2] along axis 1: channel 0 holds elements 0, 1, 4, 5; channel 1 holds 2, 3, 6, 7.
        float[] w = [1f, -1f, 10f, 5f, 4f, 0.5f, -20f, 2f];
        var (p, data) = QuantMath.QuantizeTensor(w, [2, 2, 2], 1, QuantType.Int8, symmetric: true);
        Assert.Equal([4f / 127, 20f / 127], p.Select(x => x.Scale));
        Assert.Equal(127, unchecked((sbyte)data[4]));  // 4 is channel 0's largest
        Assert.Equal(-127, unchecked((sbyte)data[6])); // -20 is channel 1's largest
    }

    [Fact]
    public void EveryDequantizedWeightIsWithinHalfAStep()
    {
        var rng = new Random(7);
        var w = Enumerable.Range(0, 4 * 3 * 5).Select(_ => (float)(rng.NextDouble() * 6 - 2)).ToArray();
        foreach (var symmetric in new[] { true, false })
            foreach (int? axis in new int?[] { null, 0, 1, 2 })
            {
                long[] shape = [4, 3, 5];
                var (p, data) = QuantMath.QuantizeTensor(w, shape, axis, QuantType.Int8, symmetric);
                for (int i = 0; i < w.Length; i++)
                {
                    int channel = axis switch { null => 0, 0 => i / 15, 1 => i / 5 % 3, _ => i % 5 };
                    var back = QuantMath.Dequantize(unchecked((sbyte)data[i]), p[channel]);
                    Assert.True(Math.Abs(back - w[i]) <= p[channel].Scale / 2 * 1.0001, $"axis {axis} symmetric={symmetric}: {w[i]} -> {back}");
                }
            }
    }

    [Fact]
    public void NanOrInfinityIsRefusedPerTensorAndPerChannel()
    {
        float[] w = [1f, float.NaN, 2f, 3f];
        Assert.Throws<ArgumentException>(() => QuantMath.QuantizeTensor(w, [2, 2], null, QuantType.Int8, true));
        Assert.Throws<ArgumentException>(() => QuantMath.QuantizeTensor(w, [2, 2], 0, QuantType.Int8, true));
        Assert.Throws<ArgumentException>(() => QuantMath.QuantizeTensor([1f, float.PositiveInfinity], [2], 0, QuantType.Int8, true));
    }
}
