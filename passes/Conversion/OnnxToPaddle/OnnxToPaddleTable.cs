using Mopt.Ir;
using static Mopt.Passes.Conversion.OnnxToPaddleOp;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// The onnx → paddle table: the inverse of <see cref="ConvertPaddleToOnnx"/> for the ops CNNs use (the Paddle forms are
/// those Paddle 2.x's own programs have, so the written model re-imports and lowers back to the same computation).
/// <code>
/// Before: %y = "onnx.Conv"(%x, %w, %b) {pads = [1, 1, 1, 1], strides = [2, 2], group = 1}
/// After:  %c = "paddle.conv2d"(%w, %x) {paddings = array&lt;i32: 1, 1, 1, 1&gt;, strides = array&lt;i32: 2, 2&gt;, groups = 1 : i32, ...}
///         %y = "paddle.elementwise_add"(%c, %b) {axis = 1 : i32}
/// </code>
/// ONNX pads [top, left, bottom, right] are Paddle's [top, bottom, left, right]; count_include_pad is !exclusive;
/// numpy broadcasting is elementwise's axis -1. A ceil_mode pool whose last window ONNX drops (it starts in the
/// padding) or whose average ONNX divides by a clipped window is not lowered: Paddle computes both differently.
/// </summary>
internal static class OnnxToPaddleTable
{
    public static IReadOnlyList<Value> Lower(OnnxToPaddleOp l) => l.Op.OpType switch
    {
        "Conv" => [Conv(l, transpose: false)],
        "ConvTranspose" => [Conv(l, transpose: true)],
        "Relu" or "Sigmoid" or "Tanh" or "Exp" or "Sqrt" or "Abs" => [l.Unary(l.Op.OpType.ToLowerInvariant(), l.Input(0))],
        "Identity" or "Dropout" => [l.Unary("assign", l.Input(0)), .. l.Op.Results.Skip(1).Select(r => r.HasUses ? throw Blocked("its mask is read") : l.Input(0))],
        "LeakyRelu" => [l.Unary("leaky_relu", l.Input(0), F32("alpha", l.Float("alpha", 0.01)))],
        "Clip" => [Clip(l)],
        "PRelu" => [PRelu(l)],
        "Add" or "Sub" or "Mul" or "Div" or "Max" or "Min" or "Pow" => [Elementwise(l, l.Op.OpType.ToLowerInvariant(), l.Input(0), l.Input(1), LegacyAxis(l))],
        "Sum" => [Sum(l)],
        "Reciprocal" => [l.Unary("reciprocal", l.Input(0))],
        "ArgMax" => [ArgMax(l)],
        "MaxPool" or "AveragePool" => [Pool(l)],
        "GlobalAveragePool" or "GlobalMaxPool" => [l.Unary("pool2d", l.Input(0), Text("pooling_type", l.Op.OpType == "GlobalMaxPool" ? "max" : "avg"),
            I32s("ksize", [1, 1]), Bool("global_pooling", true), I32s("strides", [1, 1]), I32s("paddings", [0, 0]), Text("data_format", "NCHW"))],
        "BatchNormalization" => [BatchNorm(l)],
        "Gemm" => [Gemm(l)],
        "MatMul" => [l.Paddle("matmul_v2", [("X", [l.Input(0)]), ("Y", [l.Input(1)])], [("Out", [l.Op.Result.Type])], [Bool("trans_x", false), Bool("trans_y", false)]).Result],
        "Softmax" => [Softmax(l)],
        "Flatten" => [l.Unary("flatten2", l.Input(0), I32("axis", l.Int("axis", 1)))],
        "Reshape" => [Reshape(l)],
        "Transpose" => [l.Unary("transpose2", l.Input(0), I32s("axis", l.Op.ReadInts("perm") ?? Enumerable.Range(0, Rank(l.Input(0))).Reverse().Select(i => (long)i).ToArray()))],
        "Concat" => [l.Paddle("concat", [("X", [.. l.Op.Operands])], [("Out", [l.Op.Result.Type])], [I32("axis", l.Int("axis", 0))]).Result],
        "Unsqueeze" => [Unsqueeze(l)],
        "Squeeze" => [l.Unary("squeeze2", l.Input(0), I32s("axes", l.Op.OperandCount > 1 ? l.ConstInts(1, "axes") : l.Ints("axes", [])))],
        "Slice" => [Slice(l)],
        "HardSwish" => [l.Unary("hard_swish", l.Input(0), F32("threshold", 6), F32("scale", 6), F32("offset", 3))],
        "HardSigmoid" => [l.Unary("hard_sigmoid", l.Input(0), F32("slope", l.Float("alpha", 0.2)), F32("offset", l.Float("beta", 0.5)))],
        "Split" => OnnxToPaddleTensorOps.Split(l),
        "Cast" => [OnnxToPaddleTensorOps.Cast(l)],
        "Shape" => [OnnxToPaddleTensorOps.Shape(l)],
        "ConstantOfShape" => [OnnxToPaddleTensorOps.ConstantOfShape(l)],
        "Gather" => [OnnxToPaddleTensorOps.Gather(l)],
        "Resize" => [OnnxToPaddleResize.Resize(l)],
        _ => throw Blocked("no Paddle form for this op type"),
    };

    private static int Rank(Value v) => (v.Type as TensorType)?.Shape?.Count ?? throw Blocked("an input has an unknown rank");

    private static Value Conv(OnnxToPaddleOp l, bool transpose)
    {
        var x = l.Input(0);
        var w = l.Input(1);
        if (Rank(w) != 4) throw Blocked($"its weight has rank {Rank(w)}; Paddle's conv2d is 2-D");
        var strides = l.Ints("strides", [1, 1]);
        var dilations = l.Ints("dilations", [1, 1]);
        var pads = AutoPads(l, x, Shape(w).Skip(2).ToArray(), strides, dilations, transpose) ?? l.Ints("pads", [0, 0, 0, 0]);
        var attrs = new List<NamedAttr>
        {
            I32s("strides", strides), I32s("paddings", [pads[0], pads[2], pads[1], pads[3]]),
            I32s("dilations", dilations), I32("groups", l.Int("group", 1)),
            Text("padding_algorithm", "EXPLICIT"), Text("data_format", "NCHW"),
        };
        if (transpose)
        {
            if (l.Op.GetAttr("output_shape") is not null) throw Blocked("output_shape: only output_padding is lowered");
            attrs.Add(I32s("output_padding", l.Ints("output_padding", [])));
            attrs.Add(I32s("output_size", []));
        }
        var bias = l.Optional(2);
        var conv = l.Paddle(transpose ? "conv2d_transpose" : "conv2d", [("Input", [x]), ("Filter", [w]), ("Bias", [])], [("Output", [l.Op.Result.Type])], attrs, named: bias is null).Result;
        return bias is null ? conv : Elementwise(l, "add", conv, bias, axis: 1);
    }

    private static IReadOnlyList<long> Shape(Value v) => (v.Type as TensorType)?.Shape ?? throw Blocked("an input has no static shape");

    /// <summary>ONNX's SAME_UPPER/SAME_LOWER/VALID as explicit pads for the input's size (Paddle's SAME is not ONNX's when dilated); null for NOTSET.</summary>
    private static long[]? AutoPads(OnnxToPaddleOp l, Value x, long[] kernel, long[] strides, long[] dilations, bool transpose)
    {
        var mode = l.Str("auto_pad", "NOTSET");
        if (mode == "NOTSET") return null;
        if (mode == "VALID") return [0, 0, 0, 0];
        if (transpose || mode is not ("SAME_UPPER" or "SAME_LOWER")) throw Blocked($"auto_pad {mode}: only explicit pads are lowered here");
        var shape = Shape(x);
        if (shape.Count != 4 || shape[2] < 0 || shape[3] < 0) throw Blocked($"auto_pad {mode} needs the input's height and width");
        var pads = new long[4];
        for (int i = 0; i < 2; i++)
        {
            long output = (shape[i + 2] + strides[i] - 1) / strides[i];
            long total = Math.Max((output - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - shape[i + 2], 0);
            long small = total / 2, large = total - small;
            (pads[i], pads[i + 2]) = mode == "SAME_UPPER" ? (small, large) : (large, small);
        }
        return pads;
    }

    private static Value Elementwise(OnnxToPaddleOp l, string kind, Value x, Value y, long axis = -1) =>
        l.Paddle("elementwise_" + kind, [("X", [x]), ("Y", [y])], [("Out", [l.Op.Results[0].Type])], [I32("axis", axis)]).Result;

    /// <summary>
    /// Before opset 7, Add, Sub, Mul and Div broadcast B onto A only with broadcast = 1, placing B's dims at <c>axis</c>
    /// (at the end when it is absent): Paddle's elementwise axis rule, which the Caffe2-era ONNX took over.
    /// </summary>
    private static long LegacyAxis(OnnxToPaddleOp l) =>
        OnnxOpset.Of(l.Module) < 7 && l.Int("broadcast", 0) != 0 ? l.Int("axis", -1) : -1;

    private static Value ArgMax(OnnxToPaddleOp l)
    {
        if (l.Int("select_last_index", 0) != 0) throw Blocked("select_last_index: Paddle's arg_max takes the first");
        return l.Paddle("arg_max", [("X", [l.Input(0)])], [("Out", [l.Op.Result.Type])],
            [new NamedAttr("axis", IntegerAttr.I64(l.Int("axis", 0))), Bool("keepdims", l.Int("keepdims", 1) != 0), Bool("flatten", false), I32("dtype", 3)]).Result;
    }

    /// <summary>Sum of n inputs: a chain of elementwise_add (numpy broadcasting, as Sum's).</summary>
    private static Value Sum(OnnxToPaddleOp l)
    {
        if (l.Op.OperandCount == 1) return l.Unary("assign", l.Input(0));
        var total = l.Input(0);
        for (int i = 1; i < l.Op.OperandCount; i++) total = Elementwise(l, "add", total, l.Input(i));
        return total;
    }

    private static Value Clip(OnnxToPaddleOp l)
    {
        double? low = l.ConstScalar(1, "min") ?? (l.Op.GetAttr("min") is null ? null : l.Float("min", 0));
        double? high = l.ConstScalar(2, "max") ?? (l.Op.GetAttr("max") is null ? null : l.Float("max", 0));
        if (low != 0 || high is null) throw Blocked($"Clip({low?.ToString() ?? "-inf"}, {high?.ToString() ?? "inf"}): only Clip(0, max) (relu6) is lowered");
        return l.Unary("relu6", l.Input(0), F32("threshold", high.Value));
    }

    private static Value PRelu(OnnxToPaddleOp l)
    {
        var x = l.Input(0);
        var slope = TypeOf(l.Input(1));
        long count = slope.ElementCount ?? throw Blocked("its slope has no static shape");
        var xShape = (x.Type as TensorType)?.Shape;
        string mode = count == 1 ? "all" : xShape is { Count: >= 2 } && count == xShape[1] ? "channel" : throw Blocked($"a slope of {count} values is not one per channel");
        var alpha = l.Reshaped(l.Input(1), [count], "slope");
        return l.Paddle("prelu", [("X", [x]), ("Alpha", [alpha])], [("Out", [l.Op.Result.Type])], [Text("mode", mode), Text("data_format", "NCHW")]).Result;
    }

    private static Value Pool(OnnxToPaddleOp l)
    {
        var x = l.Input(0);
        bool max = l.Op.OpType == "MaxPool";
        if (l.Str("auto_pad", "NOTSET") != "NOTSET") throw Blocked($"auto_pad {l.Str("auto_pad", "NOTSET")}: only explicit pads are lowered");
        if (l.Ints("dilations", [1, 1]).Any(d => d != 1)) throw Blocked("dilations: Paddle's pool2d has none");
        if (max && l.Op.Results.Count > 1 && l.Op.Results[1].HasUses) throw Blocked("its indices are read");
        var k = l.Ints("kernel_shape", []);
        if (k.Length != 2) throw Blocked($"kernel {OpLowering.Text(k)}: pool2d is 2-D");
        var s = l.Ints("strides", [1, 1]);
        var pads = l.Ints("pads", [0, 0, 0, 0]);
        bool ceil = l.Int("ceil_mode", 0) != 0;
        bool countPad = l.Int("count_include_pad", 0) != 0;
        if (ceil)
        {
            var shape = (x.Type as TensorType)?.Shape;
            if (shape is not { Count: 4 } || shape[2] < 0 || shape[3] < 0) throw Blocked("ceil_mode needs the input's height and width");
            for (int i = 0; i < 2; i++)
            {
                long span = shape[i + 2] + pads[i] + pads[i + 2] - k[i];
                long last = (span + s[i] - 1) / s[i] * s[i];
                if (last - pads[i] >= shape[i + 2]) throw Blocked("with ceil_mode ONNX drops a last window that starts in the padding; Paddle keeps it");
                if (!max && countPad && last + k[i] > shape[i + 2] + pads[i] + pads[i + 2])
                    throw Blocked("with ceil_mode and count_include_pad ONNX divides the last window by its clipped size; Paddle by the whole kernel");
            }
        }
        return l.Unary("pool2d", x, Text("pooling_type", max ? "max" : "avg"), I32s("ksize", k), I32s("strides", s),
            I32s("paddings", [pads[0], pads[2], pads[1], pads[3]]), Bool("ceil_mode", ceil), Bool("exclusive", !countPad),
            Bool("global_pooling", false), Bool("adaptive", false), Text("padding_algorithm", "EXPLICIT"), Text("data_format", "NCHW"));
    }

    private static Value BatchNorm(OnnxToPaddleOp l)
    {
        if (l.Op.Results.Skip(1).Any(r => r.HasUses)) throw Blocked("its training outputs are read");
        if (l.Int("spatial", 1) == 0) throw Blocked("spatial = 0 (statistics per element, before opset 9): Paddle's batch_norm has one per channel");
        var mean = l.Input(3).Type;
        var variance = l.Input(4).Type;
        var bn = l.Paddle("batch_norm",
            [("X", [l.Input(0)]), ("Scale", [l.Input(1)]), ("Bias", [l.Input(2)]), ("Mean", [l.Input(3)]), ("Variance", [l.Input(4)])],
            [("Y", [l.Op.Result.Type]), ("MeanOut", [mean]), ("VarianceOut", [variance]), ("SavedMean", [mean]), ("SavedVariance", [variance])],
            [F32("epsilon", l.Float("epsilon", 1e-5)), F32("momentum", l.Float("momentum", 0.9)), Bool("is_test", true),
             Text("data_layout", "NCHW"), Bool("use_global_stats", false)], named: false, noLod: ["SavedMean", "SavedVariance"]);
        // results in slot order: MeanOut, SavedMean, SavedVariance, VarianceOut, Y
        return bn.Results[4];
    }

    private static Value Gemm(OnnxToPaddleOp l)
    {
        if (l.Float("alpha", 1) != 1 || l.Float("beta", 1) != 1 || l.Int("transA", 0) != 0)
            throw Blocked("alpha, beta and transA other than 1, 1, 0 are not lowered");
        var bias = l.Optional(2);
        var product = l.Paddle("matmul_v2", [("X", [l.Input(0)]), ("Y", [l.Input(1)])], [("Out", [l.Op.Result.Type])],
            [Bool("trans_x", false), Bool("trans_y", l.Int("transB", 0) != 0)], named: bias is null).Result;
        return bias is null ? product : Elementwise(l, "add", product, bias);
    }

    private static Value Softmax(OnnxToPaddleOp l)
    {
        long axis = l.Int("axis", -1);
        int rank = Rank(l.Input(0));
        if (OnnxOpset.Stated(l.Module) is < 13 && axis != -1 && axis != rank - 1) throw Blocked($"before opset 13 Softmax flattens from axis {axis}; Paddle's does not");
        return l.Unary("softmax", l.Input(0), I32("axis", axis));
    }

    private static Value Reshape(OnnxToPaddleOp l)
    {
        if (l.Int("allowzero", 0) != 0) throw Blocked("allowzero: Paddle's 0 always copies the input's dim");
        if (!Constants.IsConstant(l.Input(1))) return OnnxToPaddleTensorOps.ComputedReshape(l);
        return l.Unary("reshape2", l.Input(0), I32s("shape", l.ConstInts(1, "shape")));
    }

    private static Value Unsqueeze(OnnxToPaddleOp l)
    {
        var axes = l.Op.OperandCount > 1 ? l.ConstInts(1, "axes") : l.Ints("axes", []);
        int outRank = Rank(l.Input(0)) + axes.Length;
        // ONNX's axes are places in the output; inserted in ascending order, Paddle's one-at-a-time rule gives the same
        var sorted = axes.Select(a => a < 0 ? a + outRank : a).Order().ToArray();
        return l.Unary("unsqueeze2", l.Input(0), I32s("axes", sorted));
    }

    private static Value Slice(OnnxToPaddleOp l)
    {
        // opset 10 on: starts, ends, axes, steps are inputs; before, starts, ends and axes are attributes
        bool inputs = l.Op.OperandCount > 1;
        var starts = inputs ? l.ConstInts(1, "starts") : l.Ints("starts", []);
        var ends = inputs ? l.ConstInts(2, "ends") : l.Ints("ends", []);
        var axes = inputs ? (l.Optional(3) is not null ? l.ConstInts(3, "axes") : null) : l.Op.ReadInts("axes");
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        if (inputs && l.Optional(4) is not null && l.ConstInts(4, "steps").Any(s => s != 1)) throw Blocked("steps other than 1: Paddle's slice has none");
        return l.Paddle("slice", [("Input", [l.Input(0)])], [("Out", [l.Op.Result.Type])],
            [I32s("axes", axes), I32s("starts", starts), I32s("ends", ends.Select(e => Math.Clamp(e, int.MinValue, int.MaxValue))),
             I32s("infer_flags", axes.Select(_ => 1L)), I32s("decrease_axis", [])]).Result;
    }
}
