using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;
using static Mopt.Passes.Conversion.PaddleParams;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Paddle's conv2d, depthwise_conv2d, conv2d_transpose, pool2d and batch_norm (NCHW; Paddle's filter layouts are ONNX's).
/// <code>
/// Before: %y = "paddle.conv2d"(%b?, %w, %x) {paddings = array&lt;i32: 1, 1&gt;, strides = array&lt;i32: 2, 2&gt;, groups = 1 : i32, padding_algorithm = "EXPLICIT"}
/// After:  %y = "onnx.Conv"(%x, %w) {dilations = [1, 1], group = 1, kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]}
/// </code>
/// paddings of 2 values are symmetric per axis; of 4, [top, bottom, left, right] (ONNX: [top, left, bottom, right]).
/// padding_algorithm VALID pads nothing; SAME gives out = ceil(in / stride) with the odd pixel at the end and dilation 1,
/// as Paddle's UpdatePaddingAndDilation does. pool2d: global_pooling (or adaptive to 1x1) is a global pool; adaptive
/// pools with equal bins are plain pools; an average that counts the padding (exclusive = false) divides by the
/// whole window even where ceil_mode runs it past the padded input, so the padding is made explicit first. A ceil_mode
/// window that would start wholly in the end padding (Paddle keeps it, ONNX drops it) is not lowered.
/// </summary>
internal static class PaddleConvPoolLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["conv2d"] = l => Conv(l, transpose: false);
        table["depthwise_conv2d"] = l => Conv(l, transpose: false);
        table["conv2d_transpose"] = l => Conv(l, transpose: true);
        table["depthwise_conv2d_transpose"] = l => Conv(l, transpose: true);
        table["pool2d"] = Pool;
        table["batch_norm"] = BatchNorm;
    }

    private static IReadOnlyList<Value> Conv(OpLowering l, bool transpose)
    {
        RequireNchw(l, "data_format");
        var x = Input(l, "Input");
        var w = Input(l, "Filter");
        var wShape = Shape(w, "its filter");
        if (wShape.Count != 4) throw Blocked($"its filter has rank {wShape.Count}; conv2d's has 4");
        long[] kernel = [wShape[2], wShape[3]];
        var strides = Ints(l, "strides", [1, 1]);
        var dilations = Ints(l, "dilations", [1, 1]);
        long groups = Int(l, "groups", 1);
        if (strides.Length != 2 || dilations.Length != 2 || strides.Any(s => s <= 0) || dilations.Any(d => d <= 0) || groups <= 0)
            throw Blocked($"strides {Text(strides)}, dilations {Text(dilations)} and groups {groups} must be 2, 2 and 1 positive values");
        var inShape = (x.Type as TensorType)?.Shape;
        var pads = Pads(l, inShape, kernel, strides, ref dilations);
        var attrs = new List<NamedAttr>
        {
            Attr("dilations", dilations), Attr("group", groups), Attr("kernel_shape", kernel), Attr("pads", pads), Attr("strides", strides),
        };
        if (transpose)
        {
            var outputPadding = Ints(l, "output_padding", []);
            var outputSize = Ints(l, "output_size", []);
            if (outputSize.Length > 0)
            {
                if (outputSize.Length != 2 || inShape is not { Count: 4 } || inShape[2] < 0 || inShape[3] < 0)
                    throw Blocked("output_size needs a static 4-D input");
                outputPadding = new long[2];
                for (int i = 0; i < 2; i++)
                {
                    long inferred = (inShape[i + 2] - 1) * strides[i] - pads[i] - pads[i + 2] + dilations[i] * (kernel[i] - 1) + 1;
                    outputPadding[i] = outputSize[i] - inferred;
                    if (outputPadding[i] < 0 || outputPadding[i] >= Math.Max(strides[i], dilations[i]))
                        throw Blocked($"output_size {Text(outputSize)} is not within a stride of the size {inferred} the input gives");
                }
            }
            if (outputPadding.Length is not (0 or 2)) throw Blocked($"output_padding {Text(outputPadding)} needs 2 values");
            if (outputPadding.Length == 2 && outputPadding.Any(p => p != 0)) attrs.Add(Attr("output_padding", outputPadding));
        }
        var bias = Optional(l, "Bias");
        var y = l.Emit(transpose ? "ConvTranspose" : "Conv", bias is null ? [x, w] : [x, w, bias], attrs);
        return Results(l, ("Output", y));
    }

    /// <summary>
    /// ONNX's pads ([top, left, bottom, right]) for Paddle's paddings and padding_algorithm; SAME sets the dilations to 1
    /// and needs the input's spatial size.
    /// </summary>
    private static long[] Pads(OpLowering l, IReadOnlyList<long>? inShape, long[] kernel, long[] strides, ref long[] dilations)
    {
        var algorithm = Str(l, "padding_algorithm", "EXPLICIT");
        switch (algorithm)
        {
            case "VALID": return [0, 0, 0, 0];
            case "SAME":
                if (inShape is not { Count: 4 } || inShape[2] < 0 || inShape[3] < 0) throw Blocked("padding_algorithm SAME needs the input's height and width");
                dilations = [1, 1];
                var same = new long[4];
                for (int i = 0; i < 2; i++)
                {
                    long size = inShape[i + 2], output = (size + strides[i] - 1) / strides[i];
                    long sum = Math.Max((output - 1) * strides[i] + kernel[i] - size, 0);
                    same[i] = sum / 2;
                    same[i + 2] = sum - sum / 2;
                }
                return same;
            case "EXPLICIT":
                var p = Ints(l, "paddings", [0, 0]);
                return p.Length switch
                {
                    2 => [p[0], p[1], p[0], p[1]],
                    4 => [p[0], p[2], p[1], p[3]],
                    _ => throw Blocked($"paddings {Text(p)}: Paddle gives 2 or 4 values"),
                };
            default: throw Blocked($"padding_algorithm '{algorithm}' is not EXPLICIT, SAME or VALID");
        }
    }

    private static IReadOnlyList<Value> Pool(OpLowering l)
    {
        RequireNchw(l, "data_format");
        var x = Input(l, "X");
        var type = Str(l, "pooling_type", "max");
        if (type is not ("max" or "avg")) throw Blocked($"pooling_type '{type}' is not max or avg");
        bool max = type == "max";
        var ksize = Ints(l, "ksize", []);
        if (ksize.Length != 2) throw Blocked($"ksize {Text(ksize)} needs 2 values");
        bool adaptive = Bool(l, "adaptive", false);
        if (Bool(l, "global_pooling", false) || (adaptive && ksize.All(k => k == 1)))
            return Results(l, ("Out", l.Emit(max ? "GlobalMaxPool" : "GlobalAveragePool", [x])));
        var inShape = (x.Type as TensorType)?.Shape;
        var strides = Ints(l, "strides", [1, 1]);
        if (adaptive)
        {
            // ksize is the output size; bins [floor(i*in/out), ceil((i+1)*in/out)) are one plain window when out divides in.
            if (inShape is not { Count: 4 } || inShape[2] < 0 || inShape[3] < 0) throw Blocked("an adaptive pool needs the input's height and width");
            var kernel = new long[2];
            for (int i = 0; i < 2; i++)
            {
                if (ksize[i] <= 0 || inShape[i + 2] % ksize[i] != 0)
                    throw Blocked($"adaptive output {Text(ksize)} does not divide the input {inShape[2]}x{inShape[3]} into equal bins");
                kernel[i] = inShape[i + 2] / ksize[i];
            }
            List<NamedAttr> adaptiveAttrs = [Attr("kernel_shape", kernel), Attr("strides", kernel)];
            return Results(l, ("Out", l.Emit(max ? "MaxPool" : "AveragePool", [x], adaptiveAttrs)));
        }
        if (strides.Length != 2 || strides.Any(s => s <= 0)) throw Blocked($"strides {Text(strides)} must be 2 positive values");
        long[] ones = [1, 1];
        var pads = Pads(l, inShape, ksize, strides, ref ones);
        bool ceil = Bool(l, "ceil_mode", false);
        bool exclusive = Bool(l, "exclusive", true);
        var attrs = new List<NamedAttr> { Attr("kernel_shape", ksize), Attr("strides", strides) };
        if (!max && !exclusive && (ceil || pads.Any(p => p != 0)))
        {
            // Paddle divides by ksize[0]*ksize[1] for every window; padding explicitly to whole windows makes ONNX do the same.
            if (inShape is not { Count: 4 } || inShape[2] < 0 || inShape[3] < 0)
                throw Blocked("an average pool that counts its padding (exclusive = false) needs the input's height and width");
            var padded = new long[8];
            for (int i = 0; i < 2; i++)
            {
                long span = inShape[i + 2] + pads[i] + pads[i + 2] - ksize[i];
                long output = (ceil ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
                long needed = (output - 1) * strides[i] + ksize[i] - (inShape[i + 2] + pads[i] + pads[i + 2]);
                padded[2 + i] = pads[i];
                padded[6 + i] = pads[i + 2] + Math.Max(needed, 0);
            }
            var zero = l.ScalarFloat(ElementOf(x), 0, "pad_value");
            x = l.Emit("Pad", [x, l.ConstI64(padded, "pads"), zero], [Attr("mode", "constant")]);
            return Results(l, ("Out", l.Emit("AveragePool", [x], attrs)));
        }
        attrs.Add(Attr("pads", pads));
        if (ceil)
        {
            // ONNX Runtime drops a last window that starts in the end padding; Paddle keeps it (and its value is not defined).
            if (inShape is not { Count: 4 } || inShape[2] < 0 || inShape[3] < 0) throw Blocked("ceil_mode needs the input's height and width");
            for (int i = 0; i < 2; i++)
            {
                long span = inShape[i + 2] + pads[i] + pads[i + 2] - ksize[i];
                long last = ((span + strides[i] - 1) / strides[i]) * strides[i] - pads[i];
                if (last >= inShape[i + 2])
                    throw Blocked($"with ceil_mode its last window on axis {i + 2} starts at {last}, past the input's {inShape[i + 2]}: Paddle keeps that window, ONNX drops it");
            }
            attrs.Add(Attr("ceil_mode", 1));
        }
        if (!max) attrs.Add(Attr("count_include_pad", exclusive ? 0 : 1));
        return Results(l, ("Out", l.Emit(max ? "MaxPool" : "AveragePool", [x], attrs)));
    }

    private static IReadOnlyList<Value> BatchNorm(OpLowering l)
    {
        RequireNchw(l, "data_layout");
        var y = l.Emit("BatchNormalization",
            [Input(l, "X"), Input(l, "Scale"), Input(l, "Bias"), Input(l, "Mean"), Input(l, "Variance")],
            [Attr("epsilon", (float)Float(l, "epsilon", 1e-5))]);
        return Results(l, ("Y", y));
    }
}
