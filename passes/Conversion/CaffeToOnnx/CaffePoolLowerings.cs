using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Caffe's Pooling with Caffe's output size and divisor, which ONNX's ceil_mode and count_include_pad do not give in
/// every case: the end pads are explicit and an AVE whose last window Caffe clips gets a constant divisor correction.
/// <code>
/// Before: %y = "caffe.Pooling"(%x) {kernel_size = 3 : i64, pool = "AVE", stride = 2 : i64}    (x: 1x1x6x6)
/// After:  %p = "onnx.AveragePool"(%x) {count_include_pad = 1 : i64, kernel_shape = [3, 3], pads = [0, 0, 1, 1], strides = [2, 2]}
///         %y = "onnx.Mul"(%p, %ratio)     (%ratio[i, j] = 9 / (Caffe's window area at (i, j)): 9/6 on the last row and column)
/// global_pooling → GlobalMaxPool / GlobalAveragePool
/// </code>
/// Per spatial axis (in, k, stride s, pad p), as pooling_layer.cpp: pooled = ceil((in + 2p - k) / s) + 1 (floor with
/// round_mode FLOOR); when pad_h or pad_w is not 0 and (pooled - 1)·s ≥ in + p, pooled -= 1. ONNX gets pads
/// [p, p_end] with p_end = max((pooled - 1)·s + k - in - p, 0), so that its floor-mode size is pooled. MAX takes the
/// largest input element of the window (padding ignored): Caffe's and ONNX's. AVE: Caffe divides window i's sum by
/// (min(i·s - p + k, in + p) - (i·s - p)) per axis, padding counted up to in + p but not the part past it the ceil
/// adds; ONNX (count_include_pad = 1) by k per axis, so the output is multiplied by k / Caffe's divisor where they
/// differ. Caffe leaves one case: without padding, a last window that starts at or past the input (s > k) pools
/// nothing: -FLT_MAX for MAX, 0 / area (NaN for an area 0, else 0) for AVE; that row or column is written by Pad.
/// Conditions (otherwise an error naming the layer): a 4-D input with a static spatial size; MAX or AVE (STOCHASTIC
/// is random in training and has no ONNX op); pad &lt; kernel; global_pooling without kernel, pad or stride.
/// </summary>
internal static class CaffePoolLowerings
{
    public static void Register(Dictionary<string, Lowering> table) => table["Pooling"] = Pool;

    private static IReadOnlyList<Value> Pool(OpLowering l)
    {
        var x = l.Input(0);
        if (l.Op.Results.Count != 1) throw Blocked($"it has {l.Op.Results.Count} tops; the max-index top has no ONNX lowering");
        var method = CaffeParams.Enum(l, "pool", "MAX", "MAX", "AVE", "STOCHASTIC");
        if (method == "STOCHASTIC") throw Blocked("pool STOCHASTIC (random in training, a probability-weighted sum at test) has no ONNX op");
        if (RankOf(x) is int r && r != 4) throw Blocked($"its input has rank {r}; Caffe pools 4-D blobs");
        if (CaffeParams.Bool(l, "global_pooling", false))
        {
            if (CaffeParams.Has(l, "kernel_size") || CaffeParams.Has(l, "kernel_h") || CaffeParams.Has(l, "kernel_w"))
                throw Blocked("global_pooling with a kernel size (Caffe refuses it)");
            if (CaffeParams.Spatial(l, "pad", "pad_h", "pad_w", 2, 0).Any(p => p != 0) || CaffeParams.Spatial(l, "stride", "stride_h", "stride_w", 2, 1).Any(s => s != 1))
                throw Blocked("global_pooling with a pad or stride (Caffe takes only pad 0 and stride 1)");
            return l.Become(method == "MAX" ? "GlobalMaxPool" : "GlobalAveragePool", [x]);
        }
        var kernel = CaffeParams.Spatial(l, "kernel_size", "kernel_h", "kernel_w", 2, null);
        var pads = CaffeParams.Spatial(l, "pad", "pad_h", "pad_w", 2, 0);
        var strides = CaffeParams.Spatial(l, "stride", "stride_h", "stride_w", 2, 1);
        bool ceil = CaffeParams.Enum(l, "round_mode", "CEIL", "CEIL", "FLOOR") == "CEIL";
        if (kernel.Any(k => k <= 0) || strides.Any(s => s <= 0)) throw Blocked($"kernel {Text(kernel)} and stride {Text(strides)} must be positive");
        bool padded = pads.Any(p => p != 0);
        if (padded && pads.Zip(kernel).Any(pk => pk.First >= pk.Second)) throw Blocked($"pad {Text(pads)} is not less than kernel {Text(kernel)} (Caffe refuses it)");
        if (TypeOf(x).Shape is not { } shape || shape[2] < 0 || shape[3] < 0)
            throw Blocked("its input's height and width are unknown, and Caffe's output size needs them (set the input shape)");

        var axes = new PoolAxis[2];
        for (int i = 0; i < 2; i++)
            axes[i] = PoolAxis.Of(shape[2 + i], kernel[i], strides[i], pads[i], ceil, padded);
        if (axes.FirstOrDefault(a => a.Pooled < 1) is { } bad)
            throw Blocked($"its output would have {bad.Pooled} rows or columns (input {bad.In}, kernel {bad.Kernel}, stride {bad.Stride}, pad {bad.Pad})");

        var attrs = new List<NamedAttr>
        {
            Attr("kernel_shape", kernel), Attr("pads", [pads[0], pads[1], axes[0].EndPad, axes[1].EndPad]), Attr("strides", strides),
        };
        if (method == "AVE") attrs.Add(Attr("count_include_pad", 1));
        var ratio = method == "AVE" ? DivisorRatio(axes) : null;
        string pool = method == "MAX" ? "MaxPool" : "AveragePool";
        if (ratio is null && !axes[0].EmptyLast && !axes[1].EmptyLast) return l.Become(pool, [x], attrs);
        var y = l.Emit(pool, [x], attrs);
        if (ratio is not null)
            y = l.Emit("Mul", [y, l.Const(new TensorType(ElementOf(x), [axes[0].Computed, axes[1].Computed]), ToBytes(ratio), "divisor_ratio")]);
        // Caffe's empty last window (no padding, stride > kernel): the NaN-valued axis last, so that the corner is NaN too.
        var order = Enumerable.Range(0, 2).Where(i => axes[i].EmptyLast).OrderBy(i => float.IsNaN(EmptyValue(method, axes[i])) ? 1 : 0);
        foreach (int i in order)
        {
            var padSpec = new long[8];
            padSpec[4 + 2 + i] = 1;
            y = l.Emit("Pad", [y, l.ConstI64(padSpec, "empty_window_pads"), l.ScalarFloat(ElementOf(x), EmptyValue(method, axes[i]), "empty_window_value")]);
        }
        return [y];
    }

    /// <summary>What Caffe writes for a window that holds no input element: -FLT_MAX (MAX), or 0 / its area (AVE).</summary>
    private static float EmptyValue(string method, PoolAxis axis) =>
        method == "MAX" ? float.MinValue : axis.EmptyArea == 0 ? float.NaN : 0f;

    /// <summary>k_h·k_w / Caffe's window area at each output position of the pooled windows, or null when all are 1.</summary>
    private static float[]? DivisorRatio(PoolAxis[] axes)
    {
        var rh = axes[0].Ratios();
        var rw = axes[1].Ratios();
        if (rh.All(v => v == 1) && rw.All(v => v == 1)) return null;
        var ratio = new float[rh.Length * rw.Length];
        for (int i = 0; i < rh.Length; i++)
            for (int j = 0; j < rw.Length; j++)
                ratio[i * rw.Length + j] = (float)(rh[i] * rw[j]);
        return ratio;
    }

    private static byte[] ToBytes(float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>One spatial axis of a Caffe pooling: its output size and the ONNX end pad that gives it.</summary>
    private sealed record PoolAxis(long In, long Kernel, long Stride, long Pad, long Pooled, long EndPad, bool EmptyLast, long EmptyArea)
    {
        /// <summary>The windows the ONNX pool computes (Pooled, less Caffe's empty last one).</summary>
        public long Computed => EmptyLast ? Pooled - 1 : Pooled;

        public static PoolAxis Of(long input, long k, long s, long p, bool ceil, bool padded)
        {
            double span = (double)(input + 2 * p - k) / s;
            long pooled = (long)(ceil ? Math.Ceiling(span) : Math.Floor(span)) + 1;
            if (padded && (pooled - 1) * s >= input + p) pooled--;
            // Without padding, Caffe keeps a last window that starts at or past the input (ceil with stride > kernel).
            bool emptyLast = pooled > 1 && (pooled - 1) * s - p >= input;
            long computed = emptyLast ? pooled - 1 : pooled;
            long end = Math.Max((computed - 1) * s + k - input - p, 0);
            long emptyArea = emptyLast ? input - ((pooled - 1) * s - p) : 0;
            // What ONNX's floor-mode size will be with these pads: never anything but Caffe's.
            if ((input + p + end - k) / s + 1 != computed || end >= k)
                throw Blocked($"no ONNX pads give Caffe's {pooled} windows (input {input}, kernel {k}, stride {s}, pad {p})");
            return new PoolAxis(input, k, s, p, pooled, end, emptyLast, emptyArea);
        }

        /// <summary>k / Caffe's divisor for each computed window: min(i·s - p + k, in + p) - (i·s - p).</summary>
        public double[] Ratios()
        {
            var r = new double[Computed];
            for (long i = 0; i < Computed; i++)
            {
                long start = i * Stride - Pad;
                r[i] = (double)Kernel / (Math.Min(start + Kernel, In + Pad) - start);
            }
            return r;
        }
    }
}
