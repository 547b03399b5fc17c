namespace Mopt.Passes.Quantization;

/// <summary>How an activation's float range is chosen from the values seen during calibration.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen: nothing is clipped, one outlier widens every step.</summary>
    MinMax,
    /// <summary>Clips the rarest values: the range holds <c>percentile</c>% of them.</summary>
    Percentile,
    /// <summary>TensorRT's threshold: the clipping whose quantization loses the least information (KL divergence).</summary>
    Entropy,
    /// <summary>The range whose own quantization (rounding and clipping) has the least mean squared error.</summary>
    Mse,
}

/// <summary>How a calibrated range will be quantized: the integer type and whether symmetric (what entropy and mse search for).</summary>
public readonly record struct ActivationGrid(QuantType Type, bool Symmetric)
{
    /// <summary>ONNX Runtime's (and mopt's) default: uint8 with a zero point.</summary>
    public static ActivationGrid Default => new(QuantType.UInt8, false);
}

/// <summary>
/// The running statistics of one calibrated tensor over all samples, and the float range they call for.
/// Memory is a fixed histogram per tensor (2 × 2048 counts), never the values.
/// </summary>
/// <remarks>
/// <para>The histogram: magnitudes in <see cref="Bins"/> bins of one width <c>w</c> on each side of zero
/// (<c>positive[i]</c> counts x in [i·w, (i+1)·w), <c>negative[i]</c> counts -x likewise), the first width
/// max|x|/2048. When a later sample reaches past 2048·w the width grows by an integer factor k and every k old bins
/// merge into one, exactly: the histogram stays 2048 bins and keeps every count (ONNX Runtime's and TensorRT's
/// collectors append bins instead, which is unbounded when an outlier arrives late).</para>
/// <para>Min-max: <c>[Min, Max]</c>. Percentile (ONNX Runtime's <c>HistogramCollector.compute_percentile</c>,
/// calibrate.py): a tensor of one sign keeps the <c>percentile</c>% of smallest magnitudes (ORT's symmetric mode, on
/// |x|); a tensor of both signs cuts (100 - percentile)/2 % off each tail (ORT's asymmetric mode). The cut is at the
/// outer edge of the bin where the cumulative count crosses it, so percentile=100 is min-max.</para>
/// <para>Entropy (TensorRT's calibration, Migacz, "8-bit Inference with TensorRT", GTC 2017, as
/// pytorch-quantization's <c>_compute_amax_entropy</c> and ORT's <c>get_entropy_threshold</c> do it): over the
/// histogram of |x| (the zero bin set to its neighbour, as TensorRT does, so ReLU's zeros do not dominate), for each
/// candidate threshold of i = L..2048 bins: P = the first i bins with everything beyond added to the last;
/// Q = the first i bins merged into L levels (<see cref="EntropyLevels"/>: 256 for a one-signed tensor quantized to
/// uint8 with a zero point, as pytorch-quantization's unsigned mode, else 128) and spread back evenly over the bins that were not empty; both
/// smoothed as ORT's <c>smooth_distribution</c> does (else one empty bin makes every clipping infinitely bad);
/// threshold = i·w of the smallest KL(P‖Q) (the largest i on ties). The range is ±threshold, cut to
/// [Min, Max] as ORT does.</para>
/// <para>Mse (pytorch-quantization's <c>_compute_amax_mse</c>, with mopt's own quantizer): the threshold whose range
/// gives the histogram's bin centres the least squared quantization error (<see cref="MseRange"/>).</para>
/// <para>A tensor with no negative value gets a range starting at 0 (and one with no positive value, ending at 0):
/// zero stays exact, and an activation after ReLU is not given codes it never uses.</para>
/// </remarks>
public sealed class TensorStatistics
{
    /// <summary>Bins on each side of zero: TensorRT's 2048.</summary>
    public const int Bins = 2048;

    /// <summary>Levels the entropy search quantizes a side to when the range spans both signs (or is int8 symmetric): 128.</summary>
    public const int QuantizedBins = 128;

    private readonly CalibrationMethod _method;
    private readonly double _percentile;
    private readonly ActivationGrid _grid;
    private long[]? _positive, _negative;
    private double _width;     // 0 until a value other than 0 arrives
    private long _pendingZeros; // zeros seen before the width is known

    /// <param name="method">The method <see cref="ChooseRange()"/> uses; every method but min-max keeps the histogram, so
    /// <see cref="RangeBy"/> can answer for any method.</param>
    /// <param name="percentile">What <see cref="CalibrationMethod.Percentile"/> keeps.</param>
    /// <param name="grid">How the range will be quantized (default uint8 asymmetric).</param>
    public TensorStatistics(CalibrationMethod method, double percentile = 99.99, ActivationGrid? grid = null)
    {
        CheckPercentile(percentile);
        _method = method;
        _percentile = percentile;
        _grid = grid ?? ActivationGrid.Default;
    }

    private static void CheckPercentile(double percentile)
    {
        if (!(percentile > 0 && percentile <= 100)) throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "the percentile must be in (0, 100]");
    }

    public float Min { get; private set; } = float.PositiveInfinity;
    public float Max { get; private set; } = float.NegativeInfinity;
    public long Count { get; private set; }

    /// <summary>Adds one sample's values. A NaN or infinity is an <see cref="ArgumentException"/>: no range can hold it.</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        if (values.Length == 0) return;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) throw new ArgumentException("the tensor holds inf or nan, which no quantization range can hold");
            if (v < min) min = v;
            if (v > max) max = v;
        }
        Min = Math.Min(Min, min);
        Max = Math.Max(Max, max);
        Count += values.Length;
        if (_method != CalibrationMethod.MinMax) AddToHistogram(values, Math.Max(-min, max));
    }

    /// <summary>The float range to quantize this tensor over, by the method chosen; (0, 0) when nothing was added.</summary>
    public (float Min, float Max) ChooseRange() => RangeBy(_method, _percentile);

    /// <summary>
    /// The range <paramref name="method"/> chooses from these statistics (any method, when the histogram was kept:
    /// a method other than min-max was given to the constructor); (0, 0) when nothing was added.
    /// </summary>
    public (float Min, float Max) RangeBy(CalibrationMethod method, double percentile)
    {
        CheckPercentile(percentile);
        if (Count == 0) return (0, 0);
        if (method != CalibrationMethod.MinMax && _method == CalibrationMethod.MinMax)
            throw new InvalidOperationException("min-max statistics keep no histogram");
        var (lo, hi) = method switch
        {
            CalibrationMethod.MinMax => (Min, Max),
            _ when _width == 0 => (0f, 0f), // every value was 0
            CalibrationMethod.Percentile => PercentileRange(percentile),
            CalibrationMethod.Entropy => EntropyRange(),
            CalibrationMethod.Mse => MseRange(),
            _ => throw new InvalidOperationException($"unknown calibration method {method}"),
        };
        return Bounded(lo, hi);
    }

    /// <summary>The range cut to what was seen, and to 0 on a side no value reached.</summary>
    private (float Min, float Max) Bounded(float lo, float hi)
    {
        lo = Math.Clamp(lo, Min, Max);
        hi = Math.Clamp(hi, Min, Max);
        if (Min >= 0) lo = 0;
        if (Max <= 0) hi = 0;
        return (lo, hi);
    }

    /// <summary>A copy of the histogram (bin width, counts of x ≥ 0 and of -x > 0 per bin); null when none was kept or every value was 0.</summary>
    public (double Width, long[] Positive, long[] Negative)? Histogram() =>
        _positive is null ? null : (_width, (long[])_positive.Clone(), (long[])_negative!.Clone());

    // ------------------------------------------------------------------ histogram

    private void AddToHistogram(ReadOnlySpan<float> values, float magnitude)
    {
        if (magnitude == 0 && _width == 0) { _pendingZeros += values.Length; return; }
        if (_width == 0)
        {
            _width = magnitude / (double)Bins;
            _positive = new long[Bins];
            _negative = new long[Bins];
            _positive[0] = _pendingZeros;
        }
        else if (magnitude > _width * Bins)
        {
            int factor = (int)Math.Min(Math.Ceiling(magnitude / (_width * Bins)), int.MaxValue);
            Merge(_positive!, factor);
            Merge(_negative!, factor);
            _width *= factor;
        }
        var positive = _positive!;
        var negative = _negative!;
        double perBin = 1 / _width;
        foreach (var v in values)
        {
            // A value exactly at the top edge (the maximum itself) belongs to the last bin.
            if (v >= 0) positive[Math.Min((int)(v * perBin), Bins - 1)]++;
            else negative[Math.Min((int)(-v * perBin), Bins - 1)]++;
        }
    }

    /// <summary>Every <paramref name="factor"/> bins become one (the width grows by that factor; nothing is lost).</summary>
    private static void Merge(long[] bins, int factor)
    {
        for (int i = 0; i < bins.Length; i++)
        {
            long sum = 0;
            long start = (long)i * factor;
            for (long j = start; j < Math.Min(start + factor, bins.Length); j++) sum += bins[j];
            bins[i] = start < bins.Length ? sum : 0;
        }
    }

    // ------------------------------------------------------------------ percentile

    private (float, float) PercentileRange(double percentile)
    {
        var positive = _positive!;
        var negative = _negative!;
        long negatives = negative.Sum(), positives = Count - negatives;
        double cut = 1 - percentile / 100;
        if (negatives == 0) return (0, UpperEdge(positive, cut * Count));
        if (positives == 0) return (-UpperEdge(negative, cut * Count), 0);
        return (-UpperEdge(negative, cut / 2 * Count, spill: positive), UpperEdge(positive, cut / 2 * Count, spill: negative));
    }

    /// <summary>
    /// The smallest magnitude edge with at most <paramref name="dropped"/> values above it on this side; when the
    /// whole side is to be dropped, the cut moves into the other side (<paramref name="spill"/>), returned negative.
    /// </summary>
    private float UpperEdge(long[] side, double dropped, long[]? spill = null)
    {
        long above = 0;
        for (int i = side.Length - 1; i >= 0; i--)
        {
            if (above + side[i] > dropped) return (float)((i + 1) * _width);
            above += side[i];
        }
        if (spill is null) return 0;
        for (int i = 0; i < spill.Length; i++)
        {
            if (above + spill[i] > dropped) return (float)(-i * _width);
            above += spill[i];
        }
        return 0;
    }

    // ------------------------------------------------------------------ entropy

    /// <summary>
    /// The levels the range will be quantized to on the side the |x| histogram describes: 256 for a one-signed tensor
    /// quantized asymmetrically (uint8 over [0, max]: pytorch-quantization's <c>unsigned</c>), else 128 (a side of int8).
    /// </summary>
    public int EntropyLevels => !_grid.Symmetric && (Min >= 0 || Max <= 0) ? 2 * QuantizedBins : QuantizedBins;

    private (float, float) EntropyRange()
    {
        var hist = new double[Bins];
        for (int i = 0; i < Bins; i++) hist[i] = _positive![i] + _negative![i];
        hist[0] = hist[1];
        var sums = new BinSums(hist);
        int levels = EntropyLevels;
        int best = Bins;
        double bestDivergence = double.PositiveInfinity;
        for (int i = levels; i <= Bins; i++)
        {
            double divergence = Divergence(hist, i, levels, sums);
            if (divergence <= bestDivergence) { bestDivergence = divergence; best = i; }
        }
        float threshold = (float)(best * _width);
        return (-threshold, threshold);
    }

    /// <summary>Prefix sums over the histogram's bins, so a candidate costs 128 levels instead of i bins.</summary>
    private sealed class BinSums
    {
        public readonly double[] Count, CountLogCount, LogCount; // Σ h, Σ h·ln h, Σ ln h over non-empty bins below j
        public readonly int[] NonEmpty;

        public BinSums(double[] hist)
        {
            int n = hist.Length;
            Count = new double[n + 1]; CountLogCount = new double[n + 1]; LogCount = new double[n + 1]; NonEmpty = new int[n + 1];
            for (int j = 0; j < n; j++)
            {
                double h = hist[j], log = h > 0 ? Math.Log(h) : 0;
                Count[j + 1] = Count[j] + h;
                CountLogCount[j + 1] = CountLogCount[j] + h * log;
                LogCount[j + 1] = LogCount[j] + log;
                NonEmpty[j + 1] = NonEmpty[j] + (h > 0 ? 1 : 0);
            }
        }
    }

    /// <summary>
    /// KL(P‖Q) for clipping at <paramref name="bins"/> bins: P the clipped histogram (the tail added to its last bin),
    /// Q its quantization to <paramref name="levels"/> levels spread back evenly over the non-empty bins; both smoothed as ORT's
    /// smooth_distribution does (an empty bin gets ε = 1e-4, taken evenly off the others: p' = p - t), so that a bin
    /// Q misses costs a finite amount. Within a level Q is one value q', so the level adds Σp'·ln p' - ln q'·Σp',
    /// read from prefix sums with (h - t)·ln(h - t) ≈ h·ln h - t·(ln h + 1) (t ≤ 0.2, h ≥ 1: error below 1e-7 a bin).
    /// Bins empty in both add nothing; the last bin, which holds the tail, is computed exactly.
    /// </summary>
    private static double Divergence(double[] hist, int bins, int levels, BinSums sums)
    {
        const double Epsilon = 1e-4;
        double pTotal = sums.Count[^1], qTotal = sums.Count[bins], tail = pTotal - qTotal;
        if (qTotal == 0) return double.PositiveInfinity;
        int emptyInHist = bins - sums.NonEmpty[bins];
        bool lastFilled = hist[bins - 1] == 0 && tail > 0; // the tail fills P's last bin, where Q is empty
        int pEmpty = emptyInHist - (lastFilled ? 1 : 0);
        double pTaken = Epsilon * pEmpty / (bins - pEmpty), qTaken = Epsilon * emptyInHist / (bins - emptyInHist);

        double sum = 0; // Σ p'·ln(p'/q')
        double lastQ = Epsilon;
        // Bin j falls in level floor(j · levels / bins), as np.digitize over linspace(0, bins, levels + 1) puts it.
        for (int level = 0, start = 0; level < levels; level++)
        {
            int end = (int)(((long)(level + 1) * bins + levels - 1) / levels);
            int nonEmpty = sums.NonEmpty[end] - sums.NonEmpty[start];
            if (nonEmpty > 0)
            {
                double q = (sums.Count[end] - sums.Count[start]) / nonEmpty - qTaken;
                if (end == bins) lastQ = hist[bins - 1] != 0 ? q : Epsilon;
                int upTo = end == bins ? bins - 1 : end; // the last bin is added exactly below
                int n = sums.NonEmpty[upTo] - sums.NonEmpty[start];
                double pSum = sums.Count[upTo] - sums.Count[start] - n * pTaken;
                double pLogP = sums.CountLogCount[upTo] - sums.CountLogCount[start] - pTaken * (sums.LogCount[upTo] - sums.LogCount[start] + n);
                sum += pLogP - Math.Log(q) * pSum;
            }
            start = end;
        }
        double last = hist[bins - 1] + tail;
        if (last > 0) sum += (last - pTaken) * Math.Log((last - pTaken) / lastQ);
        return sum / pTotal + Math.Log(qTotal / pTotal);
    }

    // ------------------------------------------------------------------ mse

    /// <summary>
    /// The threshold T (a bin edge i·w) whose range — [-T, T] cut to [Min, Max], quantized as <see cref="_grid"/> says,
    /// exactly as <see cref="QuantMath.ForRange"/> will — gives the histogram the least squared error, each bin's count
    /// standing at its centre: Σ count·(dequantize(quantize(c)) − c)². pytorch-quantization's <c>_compute_amax_mse</c>
    /// does the same over |x| with its own fake quantizer; here both signs are kept, so an asymmetric range pays for
    /// its zero point. Searched coarse to fine (every 16th edge, then each edge around the best), as the error is
    /// smooth in T.
    /// </summary>
    private (float, float) MseRange()
    {
        var centers = new List<double>();
        var counts = new List<double>();
        for (int i = 0; i < Bins; i++)
        {
            if (_positive![i] > 0) { centers.Add(Math.Min((i + 0.5) * _width, Max)); counts.Add(_positive[i]); }
            if (_negative![i] > 0) { centers.Add(Math.Max(-(i + 0.5) * _width, Min)); counts.Add(_negative[i]); }
        }
        const int Coarse = 16;
        int best = Bins;
        double bestError = double.PositiveInfinity;
        void Try(int i)
        {
            double error = SquaredError(i, centers, counts);
            if (error < bestError || (error == bestError && i > best)) { bestError = error; best = i; }
        }
        for (int i = Coarse; i <= Bins; i += Coarse) Try(i);
        int around = best;
        for (int i = Math.Max(1, around - Coarse + 1); i <= Math.Min(Bins, around + Coarse - 1); i++) Try(i);
        float threshold = (float)(best * _width);
        return (-threshold, threshold);
    }

    private double SquaredError(int bins, List<double> centers, List<double> counts)
    {
        float threshold = (float)(bins * _width);
        var (lo, hi) = Bounded(-threshold, threshold);
        var p = QuantMath.ForRange(lo, hi, _grid.Type, _grid.Symmetric);
        double scale = p.Scale;
        int qmin = QuantMath.Min(_grid.Type), qmax = QuantMath.Max(_grid.Type);
        double sum = 0;
        for (int k = 0; k < centers.Count; k++)
        {
            double c = centers[k];
            double q = Math.Clamp(Math.Round(c / scale, MidpointRounding.ToEven) + p.ZeroPoint, qmin, qmax);
            double d = (q - p.ZeroPoint) * scale - c;
            sum += counts[k] * d * d;
        }
        return sum;
    }
}
