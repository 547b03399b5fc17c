using static Mopt.Tests.Paddle.PaddleLoweringCheck;
using static Mopt.Tests.Paddle.PaddleTestProgram;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Issue 14 item 3: paddle.* lowered to onnx.* and run in ONNX Runtime, against Paddle's kernels transcribed here
/// (phi/kernels/funcs/pooling.cc, interpolate_op.h, conv_util.h's UpdatePaddingAndDilation) and Paddle's documented formulas.
/// </summary>
public sealed class PaddleLoweringTests
{
    private static long Count(long[] shape) => shape.Aggregate(1L, (a, d) => a * d);

    private static PaddleTestProgram OneOp(string type, long[] inShape, long[] outShape, (string, string[])[] inputs, (string, string[])[] outputs, params Mopt.Paddle.Proto.OpDesc.Types.Attr[] attrs) =>
        new PaddleTestProgram().Feed("x", inShape).Var("y", outShape).Add(type, inputs, outputs, attrs).Fetch("y");

    // ------------------------------------------------------------------ pool2d

    /// <summary>Paddle's Pool2dFunctor (CPU), one channel: windows clipped to the input; exclusive averages divide by what is inside.</summary>
    private static float[] PaddlePool(float[] x, int h, int w, int k, int s, int top, int bottom, int left, int right, bool ceil, bool max, bool exclusive, out int oh, out int ow)
    {
        oh = (ceil ? (h - k + top + bottom + s - 1) / s : (h - k + top + bottom) / s) + 1;
        ow = (ceil ? (w - k + left + right + s - 1) / s : (w - k + left + right) / s) + 1;
        var y = new float[oh * ow];
        for (int ph = 0; ph < oh; ph++)
            for (int pw = 0; pw < ow; pw++)
            {
                int hs = ph * s - top, he = Math.Min(hs + k, h), ws = pw * s - left, we = Math.Min(ws + k, w);
                hs = Math.Max(hs, 0);
                ws = Math.Max(ws, 0);
                float acc = max ? float.MinValue : 0;
                for (int i = hs; i < he; i++)
                    for (int j = ws; j < we; j++)
                        acc = max ? Math.Max(acc, x[i * w + j]) : acc + x[i * w + j];
                y[ph * ow + pw] = max ? acc : acc / (exclusive ? (he - hs) * (we - ws) : k * k);
            }
        return y;
    }

    [Theory]
    [InlineData("max", false, true, 3, 2, new[] { 1, 1 })]
    [InlineData("max", true, true, 3, 2, new[] { 0, 1, 0, 1 })]
    [InlineData("avg", false, true, 3, 2, new[] { 1, 1 })]
    [InlineData("avg", true, true, 3, 2, new[] { 1, 1 })]
    [InlineData("avg", false, false, 3, 2, new[] { 1, 1 })]
    [InlineData("avg", true, false, 3, 2, new[] { 1, 1 })]
    [InlineData("avg", true, false, 2, 2, new[] { 0, 0 })]
    [InlineData("avg", true, false, 3, 2, new[] { 0, 1, 1, 0 })]
    [InlineData("avg", true, true, 3, 3, new[] { 1, 0, 1, 1 })]
    [InlineData("max", true, true, 2, 2, new[] { 0, 1, 1, 0 })]
    public void Pool2dIsPaddles(string type, bool ceil, bool exclusive, int k, int s, int[] paddings)
    {
        const int h = 7, w = 6;
        var x = Values(1, h * w);
        int top = paddings[0], bottom = paddings.Length == 4 ? paddings[1] : paddings[0];
        int left = paddings.Length == 4 ? paddings[2] : paddings[1], right = paddings.Length == 4 ? paddings[3] : paddings[1];
        var expected = PaddlePool(x, h, w, k, s, top, bottom, left, right, ceil, type == "max", exclusive, out int oh, out int ow);
        var program = OneOp("pool2d", [1, 1, h, w], [1, 1, oh, ow], [("X", ["x"])], [("Out", ["y"])],
            A.String("pooling_type", type), A.Ints("ksize", k, k), A.Ints("strides", s, s), A.Ints("paddings", paddings),
            A.Bool("ceil_mode", ceil), A.Bool("exclusive", exclusive), A.Bool("global_pooling", false), A.Bool("adaptive", false));
        Close(Run(program, ("x", [1, 1, h, w], x))["y"], [1, 1, oh, ow], expected);
    }

    [Fact]
    public void CeilWindowWhollyInThePaddingIsNotLowered()
    {
        // width 6, kernel 3, stride 3, right pad 1, ceil: Paddle makes a third window starting at 6 (past the input); ONNX drops it
        var program = OneOp("pool2d", [1, 1, 7, 6], [1, 1, 3, 3], [("X", ["x"])], [("Out", ["y"])],
            A.String("pooling_type", "max"), A.Ints("ksize", 3, 3), A.Ints("strides", 3, 3), A.Ints("paddings", 1, 0, 0, 1), A.Bool("ceil_mode", true));
        Assert.Contains("with ceil_mode its last window on axis 3 starts at 6, past the input's 6: Paddle keeps that window, ONNX drops it", Error(program));
    }

    [Fact]
    public void AdaptivePoolWithEqualBinsAndGlobalPool()
    {
        var x = Values(2, 2 * 8 * 6);
        var adaptive = OneOp("pool2d", [1, 2, 8, 6], [1, 2, 4, 3], [("X", ["x"])], [("Out", ["y"])],
            A.String("pooling_type", "avg"), A.Ints("ksize", 4, 3), A.Bool("adaptive", true));
        var expected = new float[2 * 4 * 3];
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++)
                    expected[(c * 4 + i) * 3 + j] = (x[(c * 8 + 2 * i) * 6 + 2 * j] + x[(c * 8 + 2 * i) * 6 + 2 * j + 1] + x[(c * 8 + 2 * i + 1) * 6 + 2 * j] + x[(c * 8 + 2 * i + 1) * 6 + 2 * j + 1]) / 4;
        Close(Run(adaptive, ("x", [1, 2, 8, 6], x))["y"], [1, 2, 4, 3], expected);

        var global = OneOp("pool2d", [1, 2, 8, 6], [1, 2, 1, 1], [("X", ["x"])], [("Out", ["y"])],
            A.String("pooling_type", "max"), A.Ints("ksize", 1, 1), A.Bool("global_pooling", true));
        Close(Run(global, ("x", [1, 2, 8, 6], x))["y"], [1, 2, 1, 1], [x[..48].Max(), x[48..].Max()]);

        var uneven = OneOp("pool2d", [1, 2, 8, 6], [1, 2, 3, 3], [("X", ["x"])], [("Out", ["y"])],
            A.String("pooling_type", "avg"), A.Ints("ksize", 3, 3), A.Bool("adaptive", true));
        Assert.Contains("adaptive output [3, 3] does not divide the input 8x6 into equal bins", Error(uneven));
    }

    // ------------------------------------------------------------------ conv2d

    /// <summary>A direct NCHW convolution with explicit pads [top, bottom, left, right].</summary>
    internal static float[] DirectConv(float[] x, int c, int h, int wd, float[] f, int o, int k, int s, int d, int[] pads, int groups, out int oh, out int ow)
    {
        oh = (h + pads[0] + pads[1] - (d * (k - 1) + 1)) / s + 1;
        ow = (wd + pads[2] + pads[3] - (d * (k - 1) + 1)) / s + 1;
        var y = new float[o * oh * ow];
        int cg = c / groups, og = o / groups;
        for (int oc = 0; oc < o; oc++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double acc = 0;
                    int g = oc / og;
                    for (int ic = 0; ic < cg; ic++)
                        for (int a = 0; a < k; a++)
                            for (int b = 0; b < k; b++)
                            {
                                int yy = i * s - pads[0] + a * d, xx = j * s - pads[2] + b * d;
                                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                                acc += x[((g * cg + ic) * h + yy) * wd + xx] * f[((oc * cg + ic) * k + a) * k + b];
                            }
                    y[(oc * oh + i) * ow + j] = (float)acc;
                }
        return y;
    }

    [Theory]
    [InlineData("EXPLICIT", new[] { 1, 2, 0, 1 }, 2, 1, 1)]
    [InlineData("EXPLICIT", new[] { 1, 1 }, 1, 2, 2)]
    [InlineData("SAME", new[] { 0, 0 }, 2, 2, 1)]
    [InlineData("VALID", new[] { 3, 3 }, 2, 1, 2)]
    public void Conv2dPaddingsAreUpdatedAsPaddleDoes(string algorithm, int[] paddings, int stride, int dilation, int groups)
    {
        const int c = 2, h = 7, w = 8, o = 4, k = 3;
        var x = Values(3, c * h * w);
        var f = Values(4, o * (c / groups) * k * k);
        int[] pads = algorithm switch
        {
            "VALID" => [0, 0, 0, 0],
            "SAME" => Same(h, stride, k).Concat(Same(w, stride, k)).ToArray(),
            _ => paddings.Length == 2 ? [paddings[0], paddings[0], paddings[1], paddings[1]] : paddings,
        };
        var expected = DirectConv(x, c, h, w, f, o, k, stride, algorithm == "SAME" ? 1 : dilation, pads, groups, out int oh, out int ow);
        var program = new PaddleTestProgram().Feed("x", [1, c, h, w]).Parameter("f", [o, c / groups, k, k], f).Var("y", [1, o, oh, ow])
            .Add("conv2d", [("Input", ["x"]), ("Filter", ["f"]), ("Bias", [])], [("Output", ["y"])],
                A.Ints("strides", stride, stride), A.Ints("paddings", paddings), A.Ints("dilations", dilation, dilation), A.Int("groups", groups),
                A.String("padding_algorithm", algorithm), A.String("data_format", "NCHW"))
            .Fetch("y");
        Close(Run(program, ("x", [1, c, h, w], x))["y"], [1, o, oh, ow], expected, 1e-4);
    }

    private static int[] Same(int size, int stride, int k)
    {
        int output = (size + stride - 1) / stride, sum = Math.Max((output - 1) * stride + k - size, 0);
        return [sum / 2, sum - sum / 2];
    }

    // ------------------------------------------------------------------ interp

    /// <summary>Paddle's NearestNeighborInterpolate / BilinearInterpolation (interpolate_op.h), one channel; v2 samples at 1/scale when given one.</summary>
    private static float[] PaddleInterp(float[] x, int h, int w, int oh, int ow, bool linear, bool alignCorners, int alignMode, double scaleH, double scaleW)
    {
        double Ratio(int inSize, int outSize, double scale) => outSize > 1
            ? alignCorners ? (inSize - 1.0) / (outSize - 1) : scale > 0 ? 1.0 / scale : (double)inSize / outSize : 0;
        float rh = (float)Ratio(h, oh, scaleH), rw = (float)Ratio(w, ow, scaleW);
        var y = new float[oh * ow];
        bool alignFlag = alignMode == 0 && !alignCorners;
        for (int k = 0; k < oh; k++)
            for (int l = 0; l < ow; l++)
            {
                if (!linear)
                {
                    int iy = alignCorners ? (int)(rh * k + 0.5) : (int)(rh * k), ix = alignCorners ? (int)(rw * l + 0.5) : (int)(rw * l);
                    y[k * ow + l] = x[iy * w + ix];
                    continue;
                }
                int yn = Math.Max(alignFlag ? (int)(rh * (k + 0.5) - 0.5) : (int)(rh * k), 0);
                int ys = yn + (h - 1 > yn ? 1 : 0);
                float sy = Math.Max(alignFlag ? rh * (k + 0.5f) - 0.5f : rh * k, 0);
                float dy = sy - yn;
                int xn = Math.Max(alignFlag ? (int)(rw * (l + 0.5) - 0.5) : (int)(rw * l), 0);
                int xe = xn + (w - 1 > xn ? 1 : 0);
                float sx = Math.Max(alignFlag ? rw * (l + 0.5f) - 0.5f : rw * l, 0);
                float dx = sx - xn;
                y[k * ow + l] = x[yn * w + xn] * (1 - dy) * (1 - dx) + x[yn * w + xe] * (1 - dy) * dx + x[ys * w + xn] * dy * (1 - dx) + x[ys * w + xe] * dy * dx;
            }
        return y;
    }

    [Theory]
    [InlineData("nearest_interp", false, 1, 0.0, 8, 12)]
    [InlineData("nearest_interp", true, 1, 0.0, 8, 12)]
    [InlineData("bilinear_interp", false, 0, 0.0, 6, 9)]
    [InlineData("bilinear_interp", false, 1, 0.0, 6, 9)]
    [InlineData("bilinear_interp", true, 1, 0.0, 7, 5)]
    [InlineData("nearest_interp", false, 1, 2.0, 8, 12)]
    [InlineData("bilinear_interp_v2", false, 0, 1.5, 6, 9)]
    [InlineData("nearest_interp_v2", false, 1, 2.0, 8, 12)]
    [InlineData("bilinear_interp_v2", false, 0, 0.0, 5, 7)]
    public void InterpIsPaddles(string type, bool alignCorners, int alignMode, double scale, int oh, int ow)
    {
        const int h = 4, w = 6;
        var x = Values(5, h * w);
        bool v2 = type.EndsWith("_v2", StringComparison.Ordinal);
        if (scale > 0) (oh, ow) = ((int)(h * scale), (int)(w * scale));
        var expected = PaddleInterp(x, h, w, oh, ow, type.StartsWith("bilinear", StringComparison.Ordinal), alignCorners, alignMode, v2 ? scale : 0, v2 ? scale : 0);
        var attrs = new List<Mopt.Paddle.Proto.OpDesc.Types.Attr>
        {
            A.Bool("align_corners", alignCorners), A.Int("align_mode", alignMode), A.String("data_layout", "NCHW"),
            A.Int("out_h", scale > 0 ? -1 : oh), A.Int("out_w", scale > 0 ? -1 : ow),
            v2 ? A.Floats("scale", scale > 0 ? [(float)scale, (float)scale] : []) : A.Float("scale", (float)scale),
        };
        var program = OneOp(type, [1, 1, h, w], [1, 1, oh, ow], [("X", ["x"])], [("Out", ["y"])], [.. attrs]);
        Close(Run(program, ("x", [1, 1, h, w], x))["y"], [1, 1, oh, ow], expected, 1e-5);
    }

    // ------------------------------------------------------------------ element-wise, activations

    [Fact]
    public void ElementwiseAxisPlacesY()
    {
        var x = Values(6, 2 * 3 * 4);
        var b = Values(7, 3);
        var program = new PaddleTestProgram().Feed("x", [2, 3, 4]).Parameter("b", [3, 1], b).Var("y", [2, 3, 4])
            .Add("elementwise_add", [("X", ["x"]), ("Y", ["b"])], [("Out", ["y"])], A.Int("axis", 1)).Fetch("y");
        var expected = x.Select((v, i) => v + b[i / 4 % 3]).ToArray();
        Close(Run(program, ("x", [2, 3, 4], x))["y"], [2, 3, 4], expected);

        var tail = new PaddleTestProgram().Feed("x", [2, 3, 4]).Parameter("b", [4], b.Concat([0.5f]).ToArray()).Var("y", [2, 3, 4])
            .Add("elementwise_mul", [("X", ["x"]), ("Y", ["b"])], [("Out", ["y"])], A.Int("axis", -1)).Fetch("y");
        var bb = b.Concat([0.5f]).ToArray();
        Close(Run(tail, ("x", [2, 3, 4], x))["y"], [2, 3, 4], x.Select((v, i) => v * bb[i % 4]).ToArray());
    }

    [Fact]
    public void ActivationsScaleAndDropout()
    {
        var x = Values(8, 12, -8, 8);
        (string Type, Mopt.Paddle.Proto.OpDesc.Types.Attr[] Attrs, Func<float, float> F)[] cases =
        [
            ("relu6", [A.Float("threshold", 4)], v => Math.Clamp(v, 0, 4)),
            ("leaky_relu", [A.Float("alpha", 0.1f)], v => v > 0 ? v : 0.1f * v),
            ("hard_sigmoid", [A.Float("slope", 0.25f), A.Float("offset", 0.4f)], v => Math.Clamp(0.25f * v + 0.4f, 0, 1)),
            ("hard_swish", [], v => v * Math.Clamp(v + 3, 0, 6) / 6),
            ("hard_swish", [A.Float("threshold", 5), A.Float("scale", 4), A.Float("offset", 2)], v => v * Math.Clamp(v + 2, 0, 5) / 4),
            ("swish", [A.Float("beta", 2)], v => v / (1 + MathF.Exp(-2 * v))),
            ("scale", [A.Float("scale", 3), A.Float("bias", 1), A.Bool("bias_after_scale", true)], v => 3 * v + 1),
            ("scale", [A.Float("scale", 3), A.Float("bias", 1), A.Bool("bias_after_scale", false)], v => 3 * (v + 1)),
            ("dropout", [A.Float("dropout_prob", 0.25f)], v => v * 0.75f),
            ("dropout", [A.Float("dropout_prob", 0.25f), A.String("dropout_implementation", "upscale_in_train")], v => v),
        ];
        foreach (var (type, attrs, f) in cases)
        {
            var program = OneOp(type, [3, 4], [3, 4], [("X", ["x"])], type == "dropout" ? [("Out", ["y"]), ("Mask", ["mask"])] : [("Out", ["y"])], attrs);
            Close(Run(program, ("x", [3, 4], x))["y"], [3, 4], x.Select(f).ToArray(), 1e-5);
        }
    }

    [Fact]
    public void PReluPerChannel()
    {
        var x = Values(9, 2 * 3 * 2);
        float[] alpha = [0.1f, 0.2f, 0.3f];
        var program = new PaddleTestProgram().Feed("x", [2, 3, 2]).Parameter("a", [3], alpha).Var("y", [2, 3, 2])
            .Add("prelu", [("X", ["x"]), ("Alpha", ["a"])], [("Out", ["y"])], A.String("mode", "channel")).Fetch("y");
        Close(Run(program, ("x", [2, 3, 2], x))["y"], [2, 3, 2], x.Select((v, i) => v > 0 ? v : alpha[i / 2 % 3] * v).ToArray());
    }

    // ------------------------------------------------------------------ products and shapes

    [Fact]
    public void MulFlattensAndReshapesBack()
    {
        var x = Values(10, 2 * 3 * 4);
        var w = Values(11, 4 * 5);
        var program = new PaddleTestProgram().Feed("x", [2, 3, 4]).Parameter("w", [4, 5], w).Var("y", [2, 3, 5])
            .Add("mul", [("X", ["x"]), ("Y", ["w"])], [("Out", ["y"])], A.Int("x_num_col_dims", 2), A.Int("y_num_col_dims", 1)).Fetch("y");
        var expected = new float[2 * 3 * 5];
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 5; c++)
                expected[r * 5 + c] = Enumerable.Range(0, 4).Sum(k => x[r * 4 + k] * w[k * 5 + c]);
        Close(Run(program, ("x", [2, 3, 4], x))["y"], [2, 3, 5], expected, 1e-5);
    }

    [Fact]
    public void MatMulTransposesAndScales()
    {
        var x = Values(12, 3 * 2);
        var w = Values(13, 4 * 3);
        var program = new PaddleTestProgram().Feed("x", [3, 2]).Parameter("w", [4, 3], w).Var("y", [2, 4])
            .Add("matmul", [("X", ["x"]), ("Y", ["w"])], [("Out", ["y"])], A.Bool("transpose_X", true), A.Bool("transpose_Y", true), A.Float("alpha", 0.5f)).Fetch("y");
        var expected = new float[8];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++)
                expected[i * 4 + j] = 0.5f * Enumerable.Range(0, 3).Sum(k => x[k * 2 + i] * w[j * 3 + k]);
        Close(Run(program, ("x", [3, 2], x))["y"], [2, 4], expected, 1e-5);
    }

    [Fact]
    public void UnsqueezeInsertsOneAtATimeAndSqueezeSkipsOtherSizes()
    {
        var x = Values(14, 6);
        var un = OneOp("unsqueeze2", [2, 3], [1, 2, 3, 1], [("X", ["x"])], [("Out", ["y"]), ("XShape", ["xs"])], A.Ints("axes", -1, 0));
        Close(Run(un, ("x", [2, 3], x))["y"], [1, 2, 3, 1], x);
        var sq = OneOp("squeeze2", [1, 2, 1, 3], [2, 3], [("X", ["x"])], [("Out", ["y"]), ("XShape", ["xs"])], A.Ints("axes", 0, 1, 2));
        Close(Run(sq, ("x", [1, 2, 1, 3], x))["y"], [2, 3], x);
    }

    [Fact]
    public void SliceDecreasesSplitTakesSectionsFlattenKeepsTheTail()
    {
        var x = Values(15, 2 * 3 * 4);
        var slice = OneOp("slice", [2, 3, 4], [3, 2], [("Input", ["x"])], [("Out", ["y"])],
            A.Ints("axes", 0, 2), A.Ints("starts", 1, -3), A.Ints("ends", 2, 100), A.Ints("decrease_axis", 0));
        Close(Run(slice, ("x", [2, 3, 4], x))["y"], [3, 3], Enumerable.Range(0, 3).SelectMany(r => Enumerable.Range(1, 3).Select(c => x[12 + r * 4 + c])).ToArray());

        var split = new PaddleTestProgram().Feed("x", [2, 3, 4]).Var("a", [2, 3, 1]).Var("b", [2, 3, 3])
            .Add("split", [("X", ["x"])], [("Out", ["a", "b"])], A.Ints("sections", 1, -1), A.Int("axis", 2)).Fetch("a").Fetch("b");
        var outputs = Run(split, ("x", [2, 3, 4], x));
        Close(outputs["b"], [2, 3, 3], x.Where((_, i) => i % 4 != 0).ToArray());

        var flatten = OneOp("flatten_contiguous_range", [2, 3, 4], [6, 4], [("X", ["x"])], [("Out", ["y"]), ("XShape", ["xs"])], A.Int("start_axis", 0), A.Int("stop_axis", 1));
        Close(Run(flatten, ("x", [2, 3, 4], x))["y"], [6, 4], x);
    }

    [Fact]
    public void ShuffleChannelInterleavesGroups()
    {
        var x = Enumerable.Range(0, 6 * 2).Select(i => (float)i).ToArray();
        var program = OneOp("shuffle_channel", [1, 6, 1, 2], [1, 6, 1, 2], [("X", ["x"])], [("Out", ["y"])], A.Int("group", 2));
        // channels 0..5 in groups (0,1,2) and (3,4,5) come out as 0,3,1,4,2,5
        int[] order = [0, 3, 1, 4, 2, 5];
        Close(Run(program, ("x", [1, 6, 1, 2], x))["y"], [1, 6, 1, 2], order.SelectMany(c => new[] { x[c * 2], x[c * 2 + 1] }).ToArray());
    }

    [Fact]
    public void UnknownOpAndBlockedOpAreNamed()
    {
        var unknown = OneOp("gru_unit", [2, 3], [2, 3], [("X", ["x"])], [("Out", ["y"])]);
        Assert.Contains("node 'y' (gru_unit): no ONNX lowering for this op type", Error(unknown));
        var tensorScale = new PaddleTestProgram().Feed("x", [2, 3]).Feed("s", [1]).Var("y", [2, 3])
            .Add("scale", [("X", ["x"]), ("ScaleTensor", ["s"])], [("Out", ["y"])]).Fetch("y");
        Assert.Contains("its scale comes from a ScaleTensor input", Error(tensorScale));
        // a lowering that gives up after emitting ops (Flatten, MatMul) takes them back: the error is its reason, not the driver's
        var twoUnknown = new PaddleTestProgram().Feed("x", [-1, -1, 4]).Parameter("w", [4, 5], new float[20]).Var("y", [-1, -1, 5])
            .Add("mul", [("X", ["x"]), ("Y", ["w"])], [("Out", ["y"])], A.Int("x_num_col_dims", 2), A.Int("y_num_col_dims", 1)).Fetch("y");
        Assert.Contains("node 'y' (mul): the output shape [-1, -1, 5] has more than one unknown size", Error(twoUnknown));
    }
}
