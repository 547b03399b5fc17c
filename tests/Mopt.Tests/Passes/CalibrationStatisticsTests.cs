using Mopt.Passes.Quantization;

namespace Mopt.Tests.Passes;

/// <summary>
/// Calibration statistics: each method's range on data whose answer is known (exact extremes, a Gaussian's
/// quantiles, outliers), the histogram's growth across samples, and the progress display.
/// </summary>
public sealed class CalibrationStatisticsTests
{
    private static float[] Gaussian(int n, int seed, double sigma = 1)
    {
        var random = new Random(seed);
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            values[i] = (float)(sigma * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return values;
    }

    private static TensorStatistics Of(CalibrationMethod method, params float[][] samples)
    {
        var stats = new TensorStatistics(method);
        foreach (var s in samples) stats.Add(s);
        return stats;
    }

    [Fact]
    public void MinMaxIsTheExactExtremesOverAllSamples()
    {
        var stats = Of(CalibrationMethod.MinMax, [-1f, 2, 0.5f], [7.25f, -3.5f], []);
        Assert.Equal((-3.5f, 7.25f), stats.ChooseRange());
        Assert.Equal(-3.5f, stats.Min);
        Assert.Equal(7.25f, stats.Max);
        Assert.Equal(5, stats.Count);
        Assert.Equal((0f, 0f), new TensorStatistics(CalibrationMethod.MinMax).ChooseRange());
    }

    [Fact]
    public void PercentileDropsRareOutliers()
    {
        var values = Gaussian(1_000_000, seed: 1).Concat(Enumerable.Repeat(1000f, 10)).ToArray();
        var stats = Of(CalibrationMethod.Percentile, values);
        var (lo, hi) = stats.ChooseRange();
        Assert.Equal(1000f, stats.Max);

        // 99.99 cuts 0.005% off each tail: the kept range ends at the empirical quantiles, within one bin.
        var sorted = values.Order().ToArray();
        double binWidth = 1000.0 / TensorStatistics.Bins;
        int dropped = (int)(values.Length * 0.00005);
        float upper = sorted[^(dropped + 1)], lower = sorted[dropped];
        Assert.InRange(hi, upper, upper + binWidth);
        Assert.InRange(lo, lower - binWidth, lower);
        Assert.InRange(hi, 3.5, 4.5); // a standard normal's 99.995% quantile is 3.89, not the outliers' 1000
    }

    [Fact]
    public void PercentileOfOneSignedDataKeepsTheSmallestMagnitudes()
    {
        var values = Enumerable.Range(0, 100_000).Select(i => i / 1000f).ToArray(); // 0 .. 99.999, uniform
        var stats = new TensorStatistics(CalibrationMethod.Percentile, percentile: 99);
        stats.Add(values);
        var (lo, hi) = stats.ChooseRange();
        Assert.Equal(0f, lo);
        Assert.InRange(hi, 99.0, 99.0 + 100.0 / TensorStatistics.Bins);

        var all = new TensorStatistics(CalibrationMethod.Percentile, percentile: 100);
        all.Add(values);
        Assert.Equal((0f, 99.999f), all.ChooseRange());
    }

    [Fact]
    public void EntropyThresholdOfAGaussianWithAFarOutlierLiesInsideTheMaxAndCoversMostMass()
    {
        var values = Gaussian(200_000, seed: 2).Append(100f).ToArray();
        var stats = Of(CalibrationMethod.Entropy, values);
        var (lo, hi) = stats.ChooseRange();
        Assert.Equal(Math.Max(-hi, stats.Min), lo, 6); // ±threshold, cut to what was seen
        Assert.InRange(hi, 2.5, 20); // well inside the max (100)
        double covered = values.Count(v => Math.Abs(v) <= hi) / (double)values.Length;
        Assert.True(covered > 0.99, $"the threshold {hi} covers only {covered:P2} of the values");
    }

    [Fact]
    public void EntropyOfAUniformDistributionKeepsItsWholeRange()
    {
        var values = Enumerable.Range(0, 100_001).Select(i => -1 + i / 50_000f).ToArray();
        var (lo, hi) = Of(CalibrationMethod.Entropy, values).ChooseRange();
        Assert.InRange(hi, 0.95, 1.0);
        Assert.InRange(lo, -1.0, -0.95);
    }

    [Theory]
    [InlineData(CalibrationMethod.MinMax)]
    [InlineData(CalibrationMethod.Percentile)]
    [InlineData(CalibrationMethod.Entropy)]
    public void NonNegativeDataGetsARangeFromZero(CalibrationMethod method)
    {
        var relu = Gaussian(50_000, seed: 3).Select(v => Math.Max(v, 0f)).ToArray();
        var (lo, hi) = Of(method, relu).ChooseRange();
        Assert.Equal(0f, lo);
        Assert.InRange(hi, 2.0, relu.Max());

        var positive = Of(method, [0.5f, 1f, 2f, 4f]).ChooseRange();
        Assert.Equal(0f, positive.Min); // not 0.5: zero stays representable
        var allZero = Of(method, [0f, 0f], [0f]).ChooseRange();
        Assert.Equal((0f, 0f), allZero);
    }

    [Theory]
    [InlineData(CalibrationMethod.Percentile)]
    [InlineData(CalibrationMethod.Entropy)]
    public void TheHistogramSurvivesTheRangeGrowingAcrossSamples(CalibrationMethod method)
    {
        // Each sample reaches further than the last, so the histogram rebins twice (and once from all zeros).
        float[][] samples = [new float[1000], Gaussian(100_000, 4, sigma: 0.1), Gaussian(100_000, 5, sigma: 1), Gaussian(100_000, 6, sigma: 2)];
        var growing = Of(method, samples);
        var oneShot = Of(method, samples.SelectMany(s => s).ToArray());
        Assert.Equal(oneShot.Count, growing.Count);
        Assert.Equal(oneShot.Max, growing.Max);

        var (lo, hi) = growing.ChooseRange();
        var (expectedLo, expectedHi) = oneShot.ChooseRange();
        // Grown bins are at most twice as wide: percentile moves by a bin or two; the entropy search, which weighs
        // the shape at that resolution, by a few percent of the range.
        double magnitude = Math.Max(-oneShot.Min, oneShot.Max);
        double tolerance = method == CalibrationMethod.Percentile ? 2.5 * magnitude / TensorStatistics.Bins : 0.05 * magnitude;
        Assert.InRange(hi, expectedHi - tolerance, expectedHi + tolerance);
        Assert.InRange(lo, expectedLo - tolerance, expectedLo + tolerance);
        Assert.InRange(hi, 3.0, oneShot.Max);
    }

    [Fact]
    public void ALateOutlierKeepsEveryCount()
    {
        var stats = new TensorStatistics(CalibrationMethod.Percentile, percentile: 100);
        stats.Add(Gaussian(10_000, seed: 7));
        stats.Add([1e6f, -2e6f]);
        Assert.Equal((-2e6f, 1e6f), stats.ChooseRange()); // percentile 100 is min-max

        // The same at 99.9%, which drops the two outliers: the 10 000 earlier values, all merged into the first bin
        // on each side, are still there and bound the range.
        var clipped = new TensorStatistics(CalibrationMethod.Percentile, percentile: 99.9);
        clipped.Add(Gaussian(10_000, seed: 7));
        clipped.Add([1e6f, -2e6f]);
        float width = 2e6f / TensorStatistics.Bins;
        var (lo, hi) = clipped.ChooseRange();
        Assert.InRange(hi, width, width * 1.01); // the grown width is at least 2e6/2048
        Assert.Equal(-hi, lo);
    }

    [Fact]
    public void NonFiniteValuesAndBadPercentilesAreRefused()
    {
        Assert.Contains("inf or nan", Assert.Throws<ArgumentException>(() => new TensorStatistics(CalibrationMethod.Entropy).Add([1f, float.NaN])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorStatistics(CalibrationMethod.Percentile, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorStatistics(CalibrationMethod.Percentile, 100.5));
    }

    [Fact]
    public void ProgressWithoutATerminalPrintsOneLinePerTenth()
    {
        var output = new StringWriter();
        var progress = new CalibrationProgress(output, isTerminal: false, "calibrating");
        for (int i = 1; i <= 100; i++) progress.Report(i, 100);
        progress.Finish();
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        Assert.StartsWith("calibrating: 10% (10/100 samples, ", lines[0]);
        Assert.StartsWith("calibrating: 100% (100/100 samples, ", lines[^1]);
        Assert.DoesNotContain('\r', output.ToString());

        var few = new StringWriter();
        var fewProgress = new CalibrationProgress(few, isTerminal: false, "c");
        for (int i = 1; i <= 3; i++) fewProgress.Report(i, 3);
        Assert.Equal(3, few.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void ProgressOnATerminalRedrawsABar()
    {
        var output = new StringWriter();
        var progress = new CalibrationProgress(output, isTerminal: true, "calibrating");
        for (int i = 1; i <= 50; i++) progress.Report(i, 50);
        progress.Finish();
        var text = output.ToString();
        Assert.StartsWith("\rcalibrating [", text);
        Assert.Contains("samples/s", text);
        Assert.Contains("[" + new string('#', 30) + "] 50/50 samples", text); // the last state is always drawn
        Assert.EndsWith(Environment.NewLine, text);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>The squared error of quantizing <paramref name="values"/> over [lo, hi] as QuantizeLinear → DequantizeLinear would (uint8 asymmetric).</summary>
    private static double SquaredError(float[] values, float lo, float hi)
    {
        var p = QuantMath.ForRange(lo, hi, QuantType.UInt8, symmetric: false);
        return values.Sum(v => { double d = QuantMath.Dequantize(QuantMath.Quantize(v, p, QuantType.UInt8), p) - v; return d * d; });
    }

    [Fact]
    public void MseRangeHasLessSquaredErrorOnTheRawValuesThanMinMaxOrAnyOtherClipping()
    {
        // A ReLU-like long tail: |N(0,1)|³ (max about 90), where clipping pays and clipping too much costs.
        var values = Gaussian(100_000, seed: 5).Select(v => MathF.Abs(v * v * v)).ToArray();
        var stats = Of(CalibrationMethod.Mse, values);
        var (lo, hi) = stats.ChooseRange();
        Assert.Equal(0f, lo);
        Assert.InRange(hi, 2f, stats.Max * 0.99f); // clipped inside the max
        double chosen = SquaredError(values, lo, hi);
        // Brute force over thresholds the histogram never proposed, from the raw values themselves.
        foreach (float t in new[] { 1.5f, 2.5f, 3.5f, 4.5f, 6f, 8f, 12f, 20f, 40f, stats.Max })
            Assert.True(chosen <= SquaredError(values, 0, t) * 1.01, $"mse range [0, {hi}] has error {chosen}, [0, {t}] has {SquaredError(values, 0, t)}");
    }

    [Fact]
    public void MseOfAUniformDistributionKeepsItsWholeRange()
    {
        var values = Enumerable.Range(0, 100_001).Select(i => -1 + i / 50_000f).ToArray();
        var (lo, hi) = Of(CalibrationMethod.Mse, values).ChooseRange();
        Assert.InRange(hi, 0.97, 1.0);
        Assert.InRange(lo, -1.0, -0.97);
    }

    [Fact]
    public void EntropySearchesAsManyLevelsAsTheRangeWillGet()
    {
        // One sign, uint8 with a zero point: 256 levels over [0, max], as pytorch-quantization's unsigned calibrator.
        var positive = Gaussian(1000, seed: 3).Select(Math.Abs).ToArray();
        var uint8 = new TensorStatistics(CalibrationMethod.Entropy);
        uint8.Add(positive);
        Assert.Equal(256, uint8.EntropyLevels);
        // int8 symmetric, or both signs: a side of int8 is 128 levels.
        var int8 = new TensorStatistics(CalibrationMethod.Entropy, grid: new ActivationGrid(QuantType.Int8, true));
        int8.Add(positive);
        Assert.Equal(128, int8.EntropyLevels);
        var signed = new TensorStatistics(CalibrationMethod.Entropy);
        signed.Add(Gaussian(1000, seed: 4));
        Assert.Equal(128, signed.EntropyLevels);
    }

    [Fact]
    public void EveryMethodAnswersFromOneHistogram()
    {
        var values = Gaussian(50_000, seed: 9).Append(25f).ToArray();
        var stats = Of(CalibrationMethod.Mse, values);
        Assert.Equal((stats.Min, stats.Max), stats.RangeBy(CalibrationMethod.MinMax, 100));
        Assert.Equal(Of(CalibrationMethod.Entropy, values).ChooseRange(), stats.RangeBy(CalibrationMethod.Entropy, 100));
        Assert.Equal(Of(CalibrationMethod.Percentile, values).ChooseRange(), stats.RangeBy(CalibrationMethod.Percentile, 99.99));
        // min-max statistics keep no histogram, so they cannot answer for another method
        Assert.Throws<InvalidOperationException>(() => Of(CalibrationMethod.MinMax, values).RangeBy(CalibrationMethod.Entropy, 100));
    }
}
