using System.Runtime.InteropServices;
using Mopt.Dialects.Onnx;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// SSD's layers (weiliu89/caffe, branch ssd).
/// <code>
/// Before: %y = "caffe.Normalize"(%x, %scale) {across_spatial = false, channel_shared = false, eps = 1e-10}
/// After:  %n = "onnx.Sqrt"("onnx.Add"("onnx.ReduceSumSquare"(%x) {axes = [1], keepdims = 1}, %eps))
///         %y = "onnx.Mul"("onnx.Div"(%x, %n), %scale_c11)              (%scale_c11: the blob as [C, 1, 1])
///
/// Before: %p = "caffe.PriorBox"(%feature, %image) {min_size = [30.0], max_size = [60.0], aspect_ratio = [2.0], ...}
/// After:  %p = "onnx.Constant"() {value = dense_resource<...> : tensor&lt;1x2x(H·W·priors·4)xf32&gt;}
///
/// "caffe.DetectionOutput": an error naming the layer (below)
/// </code>
/// Normalize (normalize_layer.cpp): y = x / sqrt(Σ x² + eps) · scale, the sum over C (across_spatial = false) or over
/// C, H, W per sample (true); scale is the blob's one value (channel_shared) or one per channel.
/// PriorBox (prior_box_layer.cpp) depends only on shapes, so it is computed here as Caffe does once the feature map's
/// H and W and the image's (img_h/img_w or img_size, else the second bottom's) are known: per cell, per min_size (read
/// as an integer, as the fork does), the square min_size box, the sqrt(min·max) box, then one min_size·sqrt(ar) by
/// min_size/sqrt(ar) box per aspect ratio (1 dropped, repeats dropped, 1/ar added with flip); centres (w + offset)·step_w, (h + offset)·step_h with step = the
/// given step/step_h/step_w or image size / feature size; coordinates divided by the image size, clipped to [0, 1] with
/// clip; then the variances (one value for all, or four per box; default 0.1). Unknown shapes are an error naming the layer.
/// DetectionOutput has no faithful ONNX form here and is an error naming it and the strip-unused way out
/// (docs/formats/caffe.md, "Resizing and SSD layers").
/// </summary>
internal static class CaffeDetectionLowerings
{
    /// <summary>Why DetectionOutput is not lowered (the message names the layer before it).</summary>
    public const string DetectionOutputBlocked =
        "DetectionOutput has no faithful ONNX form: Caffe keeps each class's top_k candidates above confidence_threshold, " +
        "runs its adaptive (eta) NMS, keeps keep_top_k over all classes and returns a variable number of rows ordered by label " +
        "([1, 1, N, 7], one row of -1 when nothing is found), which onnx.NonMaxSuppression does not reproduce; end the net before it " +
        "with --strip-unused='outputs=<loc>,<conf>' (e.g. outputs=mbox_loc,mbox_conf_flatten) and decode and suppress outside the model";

    public static void Register(Dictionary<string, Lowering> table)
    {
        table["Normalize"] = Normalize;
        table["PriorBox"] = PriorBox;
        table["DetectionOutput"] = _ => throw Blocked(DetectionOutputBlocked);
    }

    private static IReadOnlyList<Value> Normalize(OpLowering l)
    {
        var x = l.Input(0);
        int rank = l.Rank(x, "its input");
        if (rank < 2) throw Blocked($"its input has rank {rank}; Normalize needs at least 2 axes");
        if (ElementOf(x) != ElementType.F32) throw Blocked($"its input is {ElementOf(x)}, not f32");
        bool acrossSpatial = l.Bool("across_spatial", true), channelShared = l.Bool("channel_shared", true);
        var axes = acrossSpatial ? Enumerable.Range(1, rank - 1).Select(a => (long)a).ToArray() : [1L];
        var sumSquares = OnnxOpset.Of(l.Module) >= 18
            ? l.Emit("ReduceSumSquare", [x, l.ConstI64(axes, "axes")], [Attr("keepdims", 1)])
            : l.Emit("ReduceSumSquare", [x], [Attr("axes", axes), Attr("keepdims", 1)]);
        // Caffe adds eps inside the square root: sqrt(Σ x² + eps).
        var norm = l.Emit("Sqrt", [l.Emit("Add", [sumSquares, l.ScalarFloat(ElementType.F32, l.Float("eps", 1e-10f), "eps")])]);
        var normalized = l.Emit("Div", [x, norm]);
        if (l.InputCount < 2) throw Blocked("it has no scale blob");
        return [l.Emit("Mul", [normalized, ScaleFor(l, l.Input(1), channelShared, rank)])];
    }

    /// <summary>The scale blob shaped to broadcast over NC...: a scalar (channel_shared) or [C, 1, ..., 1].</summary>
    private static Value ScaleFor(OpLowering l, Value blob, bool channelShared, int rank)
    {
        var type = TypeOf(blob);
        long count = type.Shape is { } s && s.All(d => d >= 0) ? s.Aggregate(1L, (a, d) => a * d) : -1;
        if (channelShared && count != 1) throw Blocked($"channel_shared is true but its scale blob holds {count} values, not 1");
        if (!channelShared && TypeOf(l.Input(0)).Shape![1] is var c && c >= 0 && count != c)
            throw Blocked($"its scale blob holds {count} values, not one per channel ({c})");
        long[] shape = channelShared ? [] : [count, .. Enumerable.Repeat(1L, rank - 2)];
        if (Constants.TryGet(blob, l.Module) is { } constant)
            return l.Const(new TensorType(type.Element, shape), constant.Bytes.ToArray(), "scale");
        return l.Emit("Reshape", [blob, l.ConstI64(shape, "scale_shape")]);
    }

    private static IReadOnlyList<Value> PriorBox(OpLowering l)
    {
        var (layerH, layerW) = HeightWidth(l, 0, "feature map (bottom 0)");
        var minSizes = (l.Op.ReadFloats("min_size") ?? []).Select(v => (int)(float)v).ToArray();
        if (minSizes.Length == 0) throw Blocked("it has no min_size");
        if (minSizes.Any(m => m <= 0)) throw Blocked($"its min_size {Text(minSizes.Select(m => (long)m))} (read as integers, as prior_box_layer.cpp does) is not positive");
        var maxSizes = (l.Op.ReadFloats("max_size") ?? []).Select(v => (int)(float)v).ToArray();
        if (maxSizes.Length > 0 && maxSizes.Length != minSizes.Length) throw Blocked($"it has {maxSizes.Length} max_size for {minSizes.Length} min_size");
        for (int i = 0; i < maxSizes.Length; i++)
            if (maxSizes[i] <= minSizes[i]) throw Blocked($"max_size {maxSizes[i]} is not greater than min_size {minSizes[i]}");

        bool flip = l.Bool("flip", true), clip = l.Bool("clip");
        var aspectRatios = new List<float> { 1f };
        foreach (var v in l.Op.ReadFloats("aspect_ratio") ?? [])
        {
            float ar = (float)v;
            if (aspectRatios.Any(a => Math.Abs(ar - a) < 1e-6)) continue;
            aspectRatios.Add(ar);
            if (flip) aspectRatios.Add((float)(1.0 / ar));
        }
        int numPriors = aspectRatios.Count * minSizes.Length + maxSizes.Length;

        var variance = (l.Op.ReadFloats("variance") ?? []).Select(v => (float)v).ToArray();
        if (variance.Length == 0) variance = [0.1f];
        if (variance.Length is not (1 or 4)) throw Blocked($"it has {variance.Length} variance values; Caffe takes 1 or 4");
        if (variance.Any(v => v <= 0)) throw Blocked("a variance is not positive");

        long imgH = l.Int("img_h", 0), imgW = l.Int("img_w", 0);
        if (l.Op.GetAttr("img_size") is not null && l.Op.GetAttr("img_h") is null && l.Op.GetAttr("img_w") is null) imgH = imgW = l.Int("img_size", 0);
        if (imgH == 0 || imgW == 0)
        {
            if (l.InputCount < 2) throw Blocked("it has no img_size/img_h/img_w and no image bottom to take the image size from");
            (imgH, imgW) = HeightWidth(l, 1, "image (bottom 1)");
        }
        float stepH = l.Float("step_h", 0), stepW = l.Float("step_w", 0);
        if (l.Op.GetAttr("step") is not null && l.Op.GetAttr("step_h") is null && l.Op.GetAttr("step_w") is null) stepH = stepW = l.Float("step", 0);
        if (stepH == 0 || stepW == 0) (stepW, stepH) = ((float)imgW / layerW, (float)imgH / layerH);
        float offset = l.Float("offset", 0.5f);

        long dim = layerH * layerW * numPriors * 4;
        if (dim > int.MaxValue / 2) throw Blocked($"it would make {dim} prior coordinates");
        var data = new float[2 * dim];
        int idx = 0;
        void Box(float cx, float cy, float bw, float bh)
        {
            data[idx++] = (float)((cx - bw / 2.0) / imgW);
            data[idx++] = (float)((cy - bh / 2.0) / imgH);
            data[idx++] = (float)((cx + bw / 2.0) / imgW);
            data[idx++] = (float)((cy + bh / 2.0) / imgH);
        }
        for (long h = 0; h < layerH; h++)
            for (long w = 0; w < layerW; w++)
            {
                float cx = (w + offset) * stepW, cy = (h + offset) * stepH;
                for (int s = 0; s < minSizes.Length; s++)
                {
                    int min = minSizes[s];
                    Box(cx, cy, min, min);
                    if (maxSizes.Length > 0)
                    {
                        float side = (float)Math.Sqrt((double)min * maxSizes[s]);
                        Box(cx, cy, side, side);
                    }
                    foreach (var ar in aspectRatios)
                        if (Math.Abs(ar - 1.0) >= 1e-6) Box(cx, cy, (float)(min * Math.Sqrt(ar)), (float)(min / Math.Sqrt(ar)));
                }
            }
        if (clip)
            for (long d = 0; d < dim; d++) data[d] = Math.Clamp(data[d], 0f, 1f);
        for (long d = 0; d < dim; d++) data[dim + d] = variance.Length == 1 ? variance[0] : variance[d % 4];
        return [l.Const(new TensorType(ElementType.F32, [1, 2, dim]), MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), "priors")];
    }

    /// <summary>The height and width (axes 2 and 3) of input <paramref name="i"/>, which must be known.</summary>
    private static (long H, long W) HeightWidth(OpLowering l, int i, string what)
    {
        var shape = TypeOf(l.Input(i)).Shape;
        if (shape is not { Count: 4 } || shape[2] < 0 || shape[3] < 0)
            throw Blocked($"the {what}'s shape is {(shape is null ? "unknown" : Text(shape))}: PriorBox needs its height and width (set the input shapes)");
        return (shape[2], shape[3]);
    }
}
