using System.Runtime.InteropServices;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Caffe's resizing layers (NCHW, rank 4).
/// <code>
/// Before: %y = "caffe.Upsample"(%x) {scale = 2}                       (the Darknet-port form, upsample_layer.cpp)
/// After:  %y = "onnx.Resize"(%x, %roi_empty, [1, 1, 2, 2]) {mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"}
///
/// Before: %y = "caffe.Interp"(%x) {zoom_factor = 2, pad_beg = 0, pad_end = -1}   (DeepLab / PSPNet, interp_layer.cpp)
/// After:  %c = "onnx.Slice"(%x, [0, 0], [H - 1, W - 1], [2, 3])         (only when a pad crops)
///         %y = "onnx.Resize"(%c, %roi_empty, %scales_empty, [N, C, Hout, Wout]) {mode = "linear", coordinate_transformation_mode = "align_corners"}
/// </code>
/// Upsample: y[h, w] = x[h / scale, w / scale] (scale ≥ 1). The SegNet form (a pooling mask as a second bottom, or
/// upsample_param fields the Darknet port does not have) is an error naming the layer.
/// Interp: the input is cropped by pad_beg/pad_end (both ≤ 0) to Hin' = H + pad_beg + pad_end, then resized bilinearly
/// with Caffe's interp.cpp mapping src = dst · (Hin' − 1) / (Hout − 1) (align-corners; 0 when Hout = 1). Hout is, in
/// interp_layer.cpp's order: shrink_factor alone (Hin' − 1) / s + 1; zoom_factor alone Hin' + (Hin' − 1)(z − 1);
/// height and width; both factors, shrink then zoom; else the second bottom's H and W. Hin' (and, with a second bottom,
/// its H and W) must be known.
/// </summary>
internal static class CaffeResizeLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["Upsample"] = Upsample;
        table["Interp"] = Interp;
    }

    private static IReadOnlyList<Value> Upsample(OpLowering l)
    {
        if (l.InputCount > 1)
            throw Blocked("it has two bottoms: SegNet's max-unpooling Upsample (the second bottom a pooling mask) has no lowering; only the one-bottom Darknet-port Upsample (upsample_param.scale) is lowered");
        if (l.Op.GetAttr("caffe.param_unknown_fields") is not null)
            throw Blocked("its upsample_param has fields the Darknet-port Upsample does not know (SegNet's scale_h/scale_w/upsample_h/upsample_w?); only upsample_param.scale is lowered");
        long scale = l.Int("scale", 1);
        if (scale < 1) throw Blocked($"its scale is {scale}, not a positive integer");
        var x = l.Input(0);
        if (l.Rank(x, "its input") is var rank && rank != 4) throw Blocked($"its input has rank {rank}, not 4 (NCHW)");
        var scales = FloatConst(l, [1f, 1f, scale, scale], "scales");
        return [l.Emit("Resize", [x, EmptyFloats(l, "roi"), scales],
            [Attr("mode", "nearest"), Attr("coordinate_transformation_mode", "asymmetric"), Attr("nearest_mode", "floor")])];
    }

    private static IReadOnlyList<Value> Interp(OpLowering l)
    {
        var x = l.Input(0);
        var shape = TypeOf(x).Shape ?? throw Blocked("its input has an unknown rank (set the input shape, e.g. --set-input-shape)");
        if (shape.Count != 4) throw Blocked($"its input has rank {shape.Count}, not 4 (NCHW)");
        if (shape[2] < 0 || shape[3] < 0) throw Blocked($"its input's height and width are not known ({Text(shape)}); set the input shape");
        long padBeg = l.Int("pad_beg", 0), padEnd = l.Int("pad_end", 0);
        if (padBeg > 0 || padEnd > 0) throw Blocked($"pad_beg {padBeg} / pad_end {padEnd}: Interp only crops (pads ≤ 0), as interp_layer.cpp checks");
        long hIn = shape[2] + padBeg + padEnd, wIn = shape[3] + padBeg + padEnd;
        if (hIn <= 0 || wIn <= 0) throw Blocked($"the pads leave a {hIn}x{wIn} input");

        bool zoom = l.Op.GetAttr("zoom_factor") is not null, shrink = l.Op.GetAttr("shrink_factor") is not null;
        bool sized = l.Op.GetAttr("height") is not null && l.Op.GetAttr("width") is not null;
        long z = l.Int("zoom_factor", 1), s = l.Int("shrink_factor", 1);
        if (zoom && z < 1) throw Blocked($"zoom_factor is {z}, not ≥ 1");
        if (shrink && s < 1) throw Blocked($"shrink_factor is {s}, not ≥ 1");
        long hOut, wOut;
        if (shrink && !zoom) (hOut, wOut) = ((hIn - 1) / s + 1, (wIn - 1) / s + 1);
        else if (zoom && !shrink) (hOut, wOut) = (hIn + (hIn - 1) * (z - 1), wIn + (wIn - 1) * (z - 1));
        else if (sized) (hOut, wOut) = (l.Int("height", 0), l.Int("width", 0));
        else if (shrink && zoom)
        {
            (hOut, wOut) = ((hIn - 1) / s + 1, (wIn - 1) / s + 1);
            (hOut, wOut) = (hOut + (hOut - 1) * (z - 1), wOut + (wOut - 1) * (z - 1));
        }
        else if (l.InputCount == 2)
        {
            var other = TypeOf(l.Input(1)).Shape;
            if (other is not { Count: >= 4 } || other[2] < 0 || other[3] < 0)
                throw Blocked($"its output size is its second bottom's height and width, which are not known ({(other is null ? "unranked" : Text(other))})");
            (hOut, wOut) = (other[2], other[3]);
        }
        else throw Blocked("interp_param gives no output size (zoom_factor, shrink_factor, or height and width) and there is no second bottom");
        if (hOut <= 0 || wOut <= 0) throw Blocked($"its output would be {hOut}x{wOut}");

        var cropped = padBeg == 0 && padEnd == 0 ? x
            : l.Emit("Slice", [x, l.ConstI64([-padBeg, -padBeg], "crop_starts"), l.ConstI64([shape[2] + padEnd, shape[3] + padEnd], "crop_ends"), l.ConstI64([2, 3], "crop_axes")]);
        Value sizes = shape[0] >= 0 && shape[1] >= 0
            ? l.ConstI64([shape[0], shape[1], hOut, wOut], "sizes")
            : l.Emit("Concat", [l.Emit("Slice", [l.Emit("Shape", [x], element: ElementType.I64), l.ConstI64([0], "nc_start"), l.ConstI64([2], "nc_end")]),
                l.ConstI64([hOut, wOut], "hw")], [Attr("axis", 0)]);
        return [l.Emit("Resize", [cropped, EmptyFloats(l, "roi"), EmptyFloats(l, "scales"), sizes],
            [Attr("mode", "linear"), Attr("coordinate_transformation_mode", "align_corners")])];
    }

    private static Value EmptyFloats(OpLowering l, string hint) => l.Const(new TensorType(ElementType.F32, [0]), [], hint);

    private static Value FloatConst(OpLowering l, float[] values, string hint) =>
        l.Const(new TensorType(ElementType.F32, [values.Length]), MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), hint);
}
