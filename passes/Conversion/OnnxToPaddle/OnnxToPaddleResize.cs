using Mopt.Dialects.Onnx;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OnnxToPaddleOp;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// onnx.Resize (opset 11 on, 4-D NCHW, H and W only) → Paddle's nearest_interp_v2 / bilinear_interp_v2: the inverse of
/// PaddleResizeLowerings.
/// <code>
/// Before: %y = "onnx.Resize"(%x, %roi, %scales) {mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"}
/// After:  %y = "paddle.nearest_interp_v2"(%x) {scale = array&lt;f32: 2.0, 2.0&gt;, align_corners = false, out_h = -1 : i32, ...}
/// </code>
/// Paddle samples at ratio·dst (nearest: int(ratio·dst), or int(ratio·dst + 0.5) with align_corners; linear with
/// align_mode 0: ratio·(dst + 0.5) − 0.5 clamped at 0, with 1: ratio·dst), ratio being 1/scale when a scale is given,
/// in/out for a size, (in − 1)/(out − 1) with align_corners. So: nearest asymmetric + floor, nearest align_corners +
/// round_prefer_ceil, linear asymmetric, half_pixel (and pytorch_half_pixel when no output side is 1) and
/// align_corners. Anything else (cubic, tf_* modes, other rounding, sizes or scales computed at run time, N or C
/// resized, antialias, keep_aspect_ratio_policy) is refused naming why.
/// </summary>
internal static class OnnxToPaddleResize
{
    public static Value Resize(OnnxToPaddleOp l)
    {
        if (OnnxOpset.Of(l.Module) < 11) throw Blocked("before opset 11 Resize has no coordinate_transformation_mode; only opset 11 on is lowered");
        var x = l.Input(0);
        var shape = (x.Type as TensorType)?.Shape ?? throw Blocked("its input has an unknown rank");
        if (shape.Count != 4) throw Blocked($"its input has rank {shape.Count}; Paddle's interp_v2 ops here are 2-D (NCHW)");
        var result = l.Op.Result.Type as TensorType ?? throw Blocked("its result is not a tensor");
        var mode = l.Str("mode", "nearest");
        if (mode is not ("nearest" or "linear")) throw Blocked($"mode '{mode}': Paddle's interp_v2 ops lowered here are nearest and bilinear");
        if (l.Int("antialias", 0) != 0) throw Blocked("antialias: Paddle's interpolation has none");
        var transform = l.Str("coordinate_transformation_mode", "half_pixel");
        var nearestMode = l.Str("nearest_mode", "round_prefer_floor");

        var (scaleH, scaleW, outH, outW) = Target(l, shape);
        if (outH > 0 && l.Str("keep_aspect_ratio_policy", "stretch") != "stretch") throw Blocked($"keep_aspect_ratio_policy '{l.Str("keep_aspect_ratio_policy", "stretch")}': only stretch is lowered");

        bool alignCorners;
        long alignMode = 1;
        if (mode == "nearest")
        {
            alignCorners = (transform, nearestMode) switch
            {
                ("asymmetric", "floor") => false,
                ("align_corners", "round_prefer_ceil") => true,
                _ => throw Blocked($"nearest with coordinate_transformation_mode '{transform}' and nearest_mode '{nearestMode}': Paddle's nearest takes int(ratio·dst) (asymmetric, floor) or, with align_corners, int(ratio·dst + 0.5) (round_prefer_ceil)"),
            };
        }
        else
        {
            switch (transform)
            {
                case "align_corners": alignCorners = true; break;
                case "asymmetric": alignCorners = false; alignMode = 1; break;
                case "half_pixel": alignCorners = false; alignMode = 0; break;
                case "pytorch_half_pixel":
                    // pytorch_half_pixel is half_pixel except that an output side of 1 samples at 0
                    if (result.Shape is not { Count: 4 } rs || rs[2] <= 1 || rs[3] <= 1)
                        throw Blocked("pytorch_half_pixel with an output side of 1 (or unknown) samples at 0; Paddle's half-pixel does not");
                    alignCorners = false; alignMode = 0;
                    break;
                default: throw Blocked($"linear with coordinate_transformation_mode '{transform}': Paddle's bilinear has align_corners, asymmetric (align_mode 1) and half_pixel (align_mode 0)");
            }
        }
        var attrs = new List<NamedAttr>
        {
            Text("data_layout", "NCHW"), I32("out_d", -1), I32("out_h", outH), I32("out_w", outW),
            F32s("scale", outH > 0 ? [] : [scaleH, scaleW]), Text("interp_method", mode == "nearest" ? "nearest" : "bilinear"),
            Bool("align_corners", alignCorners), I32("align_mode", alignMode),
        };
        return l.Paddle(mode == "nearest" ? "nearest_interp_v2" : "bilinear_interp_v2", [("X", [x])], [("Out", [result])], attrs).Result;
    }

    /// <summary>The scales of H and W (sizes -1), or the sizes of H and W (scales 0), from the constant scales or sizes input.</summary>
    private static (double ScaleH, double ScaleW, long OutH, long OutW) Target(OnnxToPaddleOp l, IReadOnlyList<long> shape)
    {
        var axes = l.Op.ReadInts("axes")?.Select(a => a < 0 ? a + 4 : a).ToArray();
        if (axes is not null && !axes.SequenceEqual([2L, 3L])) throw Blocked($"axes {OpLowering.Text(axes)}: only H and W (2, 3) are resized in Paddle");
        int given = axes is null ? 4 : 2;
        if (Present(l, 3) is { } sizesValue)
        {
            var sizes = Constants.TryGet(sizesValue, l.Module)?.ToInt64s() ?? throw Blocked("its sizes are computed at run time; only constant sizes are lowered");
            if (sizes.Length != given) throw Blocked($"sizes {OpLowering.Text(sizes)} for {given} axes");
            if (given == 4) KeepsBatchAndChannels(shape, sizes[0], sizes[1], "sizes");
            return (0, 0, sizes[^2], sizes[^1]);
        }
        if (Present(l, 2) is { } scalesValue)
        {
            var scales = Constants.TryGet(scalesValue, l.Module)?.ToFloats() ?? throw Blocked("its scales are computed at run time; only constant scales are lowered");
            if (scales.Length != given) throw Blocked($"scales [{string.Join(", ", scales)}] for {given} axes");
            if (given == 4 && (scales[0] != 1 || scales[1] != 1)) throw Blocked($"scales [{string.Join(", ", scales)}] resize N or C; Paddle's interp resizes H and W");
            if (scales[^2] <= 0 || scales[^1] <= 0) throw Blocked($"scales [{string.Join(", ", scales)}] are not positive");
            return (scales[^2], scales[^1], -1, -1);
        }
        throw Blocked("it has neither scales nor sizes");
    }

    /// <summary>An optional input that is given and not empty (opset 11-12 pass an empty scales tensor beside sizes).</summary>
    private static Value? Present(OnnxToPaddleOp l, int i) =>
        l.Optional(i) is { } v && !(v.Type is TensorType { ElementCount: 0 }) ? v : null;

    private static void KeepsBatchAndChannels(IReadOnlyList<long> shape, long n, long c, string what)
    {
        if (shape[0] < 0 || shape[1] < 0) throw Blocked($"{what} set N and C, and the input's are unknown; Paddle's interp keeps them");
        if (n != shape[0] || c != shape[1]) throw Blocked($"{what} resize N or C ({n}, {c} from {shape[0]}, {shape[1]}); Paddle's interp resizes H and W");
    }
}
