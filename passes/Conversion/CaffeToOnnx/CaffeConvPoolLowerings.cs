using Mopt.Dialects.Onnx.ShapeInference;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Caffe's Convolution, Deconvolution and InnerProduct (Pooling: <see cref="CaffePoolLowerings"/>; BatchNorm, Scale,
/// Bias: <see cref="CaffeNormLowerings"/>, both registered here). Caffe is NCHW and its weight layouts are ONNX's, so
/// the blobs are handed on as they are.
/// <code>
/// Before: %y = "caffe.Convolution"(%x, %w, %b) {kernel_size = [3], pad = [1], stride = [2], group = 2 : i64}
/// After:  %y = "onnx.Conv"(%x, %w, %b) {dilations = [1, 1], group = 2 : i64, kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]}
/// Deconvolution → onnx.ConvTranspose (same attributes; Caffe's [C_in, C_out/group, k...] weight is ONNX's W)
/// InnerProduct  → Flatten(axis 1) + Gemm(transB = 1, or 0 when transpose: true); any other axis: Reshape + MatMul + Add
/// </code>
/// Kernel, pad, stride and dilation are Caffe's repeated fields (one value for every spatial axis, or one each),
/// overridden by kernel_h/kernel_w, pad_h/pad_w, stride_h/stride_w (2-D only); pads are symmetric. The channel axis
/// must be 1 (ONNX's); the number of spatial axes is the weight's rank less 2.
/// </summary>
internal static class CaffeConvPoolLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["Convolution"] = l => Conv(l, "Conv");
        table["Deconvolution"] = l => Conv(l, "ConvTranspose");
        table["InnerProduct"] = InnerProduct;
        CaffePoolLowerings.Register(table);
        CaffeNormLowerings.Register(table);
    }

    private static IReadOnlyList<Value> Conv(OpLowering l, string onnxName)
    {
        int blobs = CaffeParams.BlobCount(l);
        if (l.InputCount - blobs != 1) throw Blocked($"it has {l.InputCount - blobs} bottoms; one is lowered");
        var x = l.Input(0);
        var w = CaffeParams.Blob(l, 0, blobs);
        var shape = TypeOf(w).Shape ?? throw Blocked("its weight blob has no static shape");
        int axes = shape.Count - 2;
        if (axes < 1) throw Blocked($"its weight blob has rank {shape.Count}; a convolution's has 2 + its spatial axes");
        long axis = CaffeParams.Int(l, "axis", 1);
        if (RankOf(x) is int rank)
        {
            if (rank != axes + 2) throw Blocked($"its input has rank {rank}, its weight {shape.Count} (N, C and {axes} spatial axes expected)");
            if (axis < 0) axis += rank;
        }
        if (axis != 1) throw Blocked($"axis {CaffeParams.Int(l, "axis", 1)}: ONNX's {onnxName} takes the channels on axis 1");
        var kernel = CaffeParams.Spatial(l, "kernel_size", "kernel_h", "kernel_w", axes, null);
        for (int i = 0; i < axes; i++)
            if (kernel[i] != shape[2 + i]) throw Blocked($"its kernel {Text(kernel)} is not its weight blob's {Text(shape.Skip(2))}");
        var pads = CaffeParams.Spatial(l, "pad", "pad_h", "pad_w", axes, 0);
        var strides = CaffeParams.Spatial(l, "stride", "stride_h", "stride_w", axes, 1);
        var dilations = CaffeParams.Spatial(l, "dilation", null, null, axes, 1);
        long group = CaffeParams.Int(l, "group", 1);
        if (!ShapeMath.AllPositive(strides) || !ShapeMath.AllPositive(dilations) || group <= 0)
            throw Blocked($"stride {Text(strides)}, dilation {Text(dilations)} and group {group} must be positive");
        bool biasTerm = CaffeParams.Bool(l, "bias_term", true);
        if (blobs != (biasTerm ? 2 : 1)) throw Blocked($"it has {blobs} blobs; with bias_term {(biasTerm ? "true" : "false")} it takes {(biasTerm ? 2 : 1)}");
        List<Value> operands = biasTerm ? [x, w, CaffeParams.Blob(l, 1, blobs)] : [x, w];
        var attrs = new List<NamedAttr>
        {
            Attr("dilations", dilations), Attr("group", group), Attr("kernel_shape", kernel),
            Attr("pads", [.. pads, .. pads]), Attr("strides", strides),
        };
        return l.Become(onnxName, operands, attrs);
    }

    private static IReadOnlyList<Value> InnerProduct(OpLowering l)
    {
        if (CaffeParams.BottomCount(l) != 1) throw Blocked($"it has {CaffeParams.BottomCount(l)} bottoms; one is lowered");
        var x = l.Input(0);
        bool transpose = CaffeParams.Bool(l, "transpose", false);
        bool biasTerm = CaffeParams.Bool(l, "bias_term", true);
        int blobs = CaffeParams.BlobCount(l);
        if (blobs != (biasTerm ? 2 : 1)) throw Blocked($"it has {blobs} blobs; with bias_term {(biasTerm ? "true" : "false")} it takes {(biasTerm ? 2 : 1)}");
        var w = Weight2D(l, CaffeParams.Blob(l, 0));
        var ws = TypeOf(w).Shape!;
        long n = transpose ? ws[1] : ws[0], k = transpose ? ws[0] : ws[1];
        var bias = biasTerm ? CaffeParams.Blob(l, 1) : null;

        long axis = CaffeParams.Int(l, "axis", 1);
        int? rank = RankOf(x);
        if (axis < 0) axis += rank ?? throw Blocked($"axis {axis} needs the input's rank (set the input shape)");
        if (TypeOf(x).Shape is { } xs)
        {
            if (axis > xs.Count) throw Blocked($"axis {axis} is past its input's rank {xs.Count}");
            var tail = xs.Skip((int)axis).ToArray();
            if (tail.All(d => d >= 0) && tail.Aggregate(1L, (a, d) => a * d) != k)
                throw Blocked($"its input's axes from {axis} hold {tail.Aggregate(1L, (a, d) => a * d)} values, its weight takes {k}");
        }
        if (axis == 1)
        {
            var flat = rank == 2 ? x : l.Emit("Flatten", [x], [Attr("axis", 1)]);
            List<Value> operands = bias is null ? [flat, w] : [flat, w, bias];
            return l.Become("Gemm", operands, [Attr("transB", transpose ? 0 : 1)]);
        }
        // Caffe keeps the axes before `axis` and flattens the rest: Reshape(0, ..., 0, -1) then a [K, N] product.
        var rows = l.Emit("Reshape", [x, l.ConstI64([.. Enumerable.Repeat(0L, (int)axis), -1], "flat_shape")]);
        var wkn = transpose ? w : l.PermutedFilter(w, [1, 0], [k, n]);
        var y = l.Emit("MatMul", [rows, wkn]);
        return [bias is null ? y : l.Emit("Add", [y, bias])];
    }

    /// <summary>The weight as [N, K] (or [K, N]): a legacy blob [1, 1, N, K] has its leading 1s dropped (the bytes are the same).</summary>
    private static Value Weight2D(OpLowering l, Value w)
    {
        var type = TypeOf(w);
        var shape = type.Shape ?? throw Blocked("its weight blob has no static shape");
        if (shape.Count == 2) return w;
        if (shape.Count < 2 || shape.Take(shape.Count - 2).Any(d => d != 1))
            throw Blocked($"its weight blob {Text(shape)} is not [N, K] (or [1, 1, N, K])");
        return CaffeNormLowerings.Reshaped(l, w, [shape[^2], shape[^1]]);
    }
}
