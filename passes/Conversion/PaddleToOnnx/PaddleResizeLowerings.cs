using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;
using static Mopt.Passes.Conversion.PaddleParams;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Paddle's bilinear_interp and nearest_interp (v1) and their _v2 forms → onnx.Resize (NCHW).
/// <code>
/// Before: %y = "paddle.nearest_interp_v2"(%x) {scale = array&lt;f32: 2.0, 2.0&gt;, align_corners = false, ...}
/// After:  %y = "onnx.Resize"(%x, "", [1, 1, 2, 2]) {coordinate_transformation_mode = "asymmetric", mode = "nearest", nearest_mode = "floor"}
/// </code>
/// The output size: a positive scale gives int(in * scale), else out_h/out_w. v1 always samples at in/out (so it is
/// lowered with sizes); v2 with a scale samples at 1/scale (so with scales), as Paddle's kernels do. The sampling
/// point: align_corners (in-1)/(out-1); nearest without it int(ratio * dst) (asymmetric, floor), with it
/// int(ratio * dst + 0.5) (round half up); linear with align_mode 0 ratio * (dst + 0.5) - 0.5 (half_pixel), with 1
/// ratio * dst (asymmetric). Sizes and scales from input tensors (OutSize, SizeTensor, Scale) are not lowered.
/// </summary>
internal static class PaddleResizeLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["bilinear_interp"] = l => Resize(l, linear: true, v2: false);
        table["nearest_interp"] = l => Resize(l, linear: false, v2: false);
        table["bilinear_interp_v2"] = l => Resize(l, linear: true, v2: true);
        table["nearest_interp_v2"] = l => Resize(l, linear: false, v2: true);
    }

    private static IReadOnlyList<Value> Resize(OpLowering l, bool linear, bool v2)
    {
        RequireNchw(l, "data_layout");
        foreach (var input in new[] { "OutSize", "SizeTensor", "Scale" })
            if (Slot(l, input).Count > 0) throw Blocked($"its {input} input sets the size; only the attributes are lowered");
        var x = Input(l, "X");
        var shape = Shape(x, "its input");
        if (shape.Count != 4) throw Blocked($"its input has rank {shape.Count}; 4 (NCHW) is lowered");
        var scales = v2 ? Floats(l, "scale") : Float(l, "scale", 0) is var s and > 0 ? [s, s] : [];
        if (scales.Length == 1) scales = [scales[0], scales[0]];
        bool byScale = scales.Length == 2 && scales[0] > 0 && scales[1] > 0;
        long outH = Int(l, "out_h", -1), outW = Int(l, "out_w", -1);
        if (!byScale && (outH <= 0 || outW <= 0)) throw Blocked($"it has no positive scale and out_h {outH}, out_w {outW}");

        bool alignCorners = Bool(l, "align_corners", true);
        long alignMode = Int(l, "align_mode", 1);
        var attrs = new List<NamedAttr> { Attr("mode", linear ? "linear" : "nearest") };
        if (alignCorners) attrs.Add(Attr("coordinate_transformation_mode", "align_corners"));
        else attrs.Add(Attr("coordinate_transformation_mode", linear && alignMode == 0 ? "half_pixel" : "asymmetric"));
        if (!linear) attrs.Add(Attr("nearest_mode", alignCorners ? "round_prefer_ceil" : "floor"));

        var roi = l.Const(new TensorType(ElementType.F32, [0]), [], "roi");
        if (v2 && byScale)
        {
            var scaleBytes = new byte[16];
            float[] values = [1, 1, (float)scales[0], (float)scales[1]];
            Buffer.BlockCopy(values, 0, scaleBytes, 0, 16);
            var scaleConst = l.Const(new TensorType(ElementType.F32, [4]), scaleBytes, "scales");
            return Results(l, ("Out", l.Emit("Resize", [x, roi, scaleConst], attrs)));
        }
        if (byScale)
        {
            if (shape[2] < 0 || shape[3] < 0) throw Blocked("a scale needs the input's height and width");
            outH = (long)(shape[2] * scales[0]);
            outW = (long)(shape[3] * scales[1]);
        }
        Value sizes = shape[0] >= 0 && shape[1] >= 0
            ? l.ConstI64([shape[0], shape[1], outH, outW], "sizes")
            : l.Emit("Concat", [l.Emit("Slice", [l.Emit("Shape", [x]), l.ConstI64([0], "nc_start"), l.ConstI64([2], "nc_end")]), l.ConstI64([outH, outW], "hw")], [Attr("axis", 0)]);
        var noScales = l.Const(new TensorType(ElementType.F32, [0]), [], "no_scales");
        return Results(l, ("Out", l.Emit("Resize", [x, roi, noScales, sizes], attrs)));
    }
}
