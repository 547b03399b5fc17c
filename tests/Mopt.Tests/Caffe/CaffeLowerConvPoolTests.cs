using System.Globalization;
using System.Text;
using Mopt.Caffe.Proto;

namespace Mopt.Tests.Caffe;

/// <summary>
/// The lowering of Caffe's Convolution, Deconvolution, InnerProduct, Pooling, BatchNorm, Scale and Bias to ONNX
/// (passes/Conversion/CaffeToOnnx/CaffeConvPoolLowerings.cs and beside it): each option on a small net with random
/// blobs, OpenCV on the Caffe net against ONNX Runtime on mopt's lowering; Pooling also against Caffe's own loops
/// (pooling_layer.cpp, transcribed below) over every small (in, kernel, stride, pad).
/// </summary>
public sealed class CaffeLowerConvPoolTests
{
    private static CaffeInput Input(string name, int seed, params int[] shape) =>
        new(name, shape, CaffeTestNet.Values(seed, shape.Aggregate(1, (a, d) => a * d)));

    private static string Header(params (string Name, int[] Shape)[] inputs) =>
        "name: \"t\"\n" + string.Concat(inputs.Select(i => $"input: \"{i.Name}\"\ninput_shape {{ {string.Concat(i.Shape.Select(d => $"dim: {d} "))}}}\n"));

    private static double Check(string prototxt, Dictionary<string, BlobProto[]> blobs, CaffeInput[] inputs, string[] outputs, params string[] extra)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "net", prototxt, blobs);
        return CaffeReferee.AssertLoweredMatchesOpenCv(net, dir, inputs, outputs, extra);
    }

    /// <summary>Lowers the net to ONNX and runs it in ONNX Runtime; also returns OpenCV's outputs when <paramref name="openCv"/>.</summary>
    private static (IReadOnlyList<Tf.OpenCvOutput> Ort, IReadOnlyList<Tf.OpenCvOutput>? OpenCv) RunLowered(string prototxt, Dictionary<string, BlobProto[]> blobs,
        CaffeInput[] inputs, string[] outputs, bool openCv)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "net", prototxt, blobs);
        var onnx = dir.File("net.onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "-o", onnx]);
        Assert.True(exit == 0, stderr);
        return (CaffeReferee.RunOrt(onnx, inputs, outputs), openCv ? CaffeReferee.RunOpenCv(net.Prototxt, net.CaffeModel, inputs, outputs) : null);
    }

    /// <summary>The lowered IR (mopt-opt net.prototxt --convert-caffe-to-onnx [extra]), or the error text when it fails.</summary>
    private static (int Exit, string Text) Lower(string prototxt, Dictionary<string, BlobProto[]>? blobs, params string[] extra)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "net", prototxt, blobs);
        var output = dir.File("lowered.mir");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "--caffe-weights=" + net.CaffeModel, "--convert-caffe-to-onnx", .. extra, "-o", output]);
        return (exit, exit == 0 ? File.ReadAllText(output) : stderr);
    }

    // ------------------------------------------------------------------ Convolution, Deconvolution

    public static TheoryData<string, int, int, int[], int[]> Convolutions => new()
    {
        // param text, C_in, C_out, weight kernel [kh, kw], input [H, W]
        { "num_output: 4 kernel_size: 3", 3, 4, [3, 3], [7, 6] },
        { "num_output: 4 kernel_size: 3 pad: 1 stride: 2", 3, 4, [3, 3], [7, 8] },
        { "num_output: 2 kernel_size: 3 kernel_size: 2 pad: 1 pad: 0 stride: 1 stride: 2", 3, 2, [3, 2], [6, 7] },
        { "num_output: 2 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 2 stride_h: 2 stride_w: 3", 2, 2, [3, 1], [9, 8] },
        { "num_output: 3 kernel_size: 3 dilation: 2 pad: 2", 2, 3, [3, 3], [7, 7] },
        { "num_output: 3 kernel_size: 2 dilation: 1 dilation: 2", 2, 3, [2, 2], [6, 7] },
        { "num_output: 4 kernel_size: 3 group: 2 pad: 1", 4, 4, [3, 3], [5, 5] },
        { "num_output: 6 kernel_size: 3 group: 3 stride: 2", 3, 6, [3, 3], [8, 7] },
        { "num_output: 3 kernel_size: 1 bias_term: false", 2, 3, [1, 1], [4, 5] },
    };

    [Theory]
    [MemberData(nameof(Convolutions))]
    public void ConvolutionMatchesOpenCv(string param, int cin, int cout, int[] k, int[] hw)
    {
        long group = param.Contains("group: ") ? long.Parse(param.Split("group: ")[1].Split(' ')[0], CultureInfo.InvariantCulture) : 1;
        bool bias = !param.Contains("bias_term: false");
        var prototxt = Header(("data", [1, cin, hw[0], hw[1]])) +
            $"layer {{ name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\" convolution_param {{ {param} }} }}\n";
        var blobs = new List<BlobProto> { CaffeTestNet.Random(1, -1, 1, cout, cin / group, k[0], k[1]) };
        if (bias) blobs.Add(CaffeTestNet.Random(2, -1, 1, cout));
        Check(prototxt, new() { ["conv"] = [.. blobs] }, [Input("data", 3, 1, cin, hw[0], hw[1])], ["conv"]);
    }

    public static TheoryData<string, int, int, int[], int[]> Deconvolutions => new()
    {
        { "num_output: 3 kernel_size: 3 stride: 2", 2, 3, [3, 3], [4, 5] },
        { "num_output: 3 kernel_size: 4 stride: 2 pad: 1", 2, 3, [4, 4], [3, 4] },
        { "num_output: 4 kernel_size: 3 stride: 2 pad: 1 group: 2", 4, 4, [3, 3], [4, 4] },
        { "num_output: 2 kernel_h: 3 kernel_w: 2 stride_h: 1 stride_w: 3 pad_h: 1 pad_w: 0", 2, 2, [3, 2], [4, 3] },
        { "num_output: 2 kernel_size: 2 stride: 2 bias_term: false", 3, 2, [2, 2], [3, 3] },
    };

    /// <summary>Caffe's output size (in - 1)·stride - 2·pad + dilation·(k - 1) + 1 is ConvTranspose's without output_padding.</summary>
    [Theory]
    [MemberData(nameof(Deconvolutions))]
    public void DeconvolutionMatchesOpenCv(string param, int cin, int cout, int[] k, int[] hw)
    {
        long group = param.Contains("group: ") ? 2 : 1;
        bool bias = !param.Contains("bias_term: false");
        var prototxt = Header(("data", [1, cin, hw[0], hw[1]])) +
            $"layer {{ name: \"deconv\" type: \"Deconvolution\" bottom: \"data\" top: \"deconv\" convolution_param {{ {param} }} }}\n";
        var blobs = new List<BlobProto> { CaffeTestNet.Random(4, -1, 1, cin, cout / group, k[0], k[1]) };
        if (bias) blobs.Add(CaffeTestNet.Random(5, -1, 1, cout));
        Check(prototxt, new() { ["deconv"] = [.. blobs] }, [Input("data", 6, 1, cin, hw[0], hw[1])], ["deconv"]);
    }

    /// <summary>OpenCV's Deconvolution ignores dilation: Caffe's output size, (in - 1)·s - 2p + d·(k - 1) + 1, on the IR.</summary>
    [Fact]
    public void DilatedDeconvolutionHasCaffesOutputSize()
    {
        var prototxt = Header(("data", [1, 2, 4, 3])) +
            "layer { name: \"deconv\" type: \"Deconvolution\" bottom: \"data\" top: \"deconv\" convolution_param { num_output: 2 kernel_h: 3 kernel_w: 2 stride_h: 1 stride_w: 3 pad_h: 1 dilation: 2 } }\n";
        var (exit, text) = Lower(prototxt, new() { ["deconv"] = [CaffeTestNet.Random(1, -1, 1, 2, 2, 3, 2), CaffeTestNet.Random(2, -1, 1, 2)] });
        Assert.True(exit == 0, text);
        // H: 3·1 - 2 + 2·2 + 1 = 6; W: 2·3 - 0 + 2·1 + 1 = 9
        var line = Assert.Single(text.Split('\n'), l => l.Contains("\"onnx.ConvTranspose\""));
        Assert.True(line.Contains("{dilations = [2, 2], group = 1 : i64, kernel_shape = [3, 2], mo.outputs = [\"deconv\"], pads = [1, 0, 1, 0], strides = [1, 3]} : (tensor<1x2x4x3xf32>, tensor<2x2x3x2xf32>, tensor<2xf32>) -> tensor<1x2x6x9xf32>", StringComparison.Ordinal), line);
    }

    /// <summary>Caffe's Deconvolution (the convolution's backward data pass): y[o, ih·s − p + a·d, iw·s − p + b·d] += x[c, ih, iw]·W[c, o − g·M, a, b], plus b[o].</summary>
    private static float[] CaffeDeconv(float[] x, int cin, int h, int w, float[] wt, int perGroup, int group, int[] k, int[] s, int[] p, int[] d, float[] bias, out int oh, out int ow)
    {
        oh = s[0] * (h - 1) + d[0] * (k[0] - 1) + 1 - 2 * p[0];
        ow = s[1] * (w - 1) + d[1] * (k[1] - 1) + 1 - 2 * p[1];
        int cout = perGroup * group, cinPerGroup = cin / group;
        var y = new double[cout * oh * ow];
        for (int c = 0; c < cin; c++)
            for (int m = 0; m < perGroup; m++)
            {
                int o = c / cinPerGroup * perGroup + m;
                for (int ih = 0; ih < h; ih++)
                    for (int iw = 0; iw < w; iw++)
                        for (int a = 0; a < k[0]; a++)
                            for (int b = 0; b < k[1]; b++)
                            {
                                int yh = ih * s[0] - p[0] + a * d[0], yw = iw * s[1] - p[1] + b * d[1];
                                if (yh >= 0 && yh < oh && yw >= 0 && yw < ow)
                                    y[(o * oh + yh) * ow + yw] += x[(c * h + ih) * w + iw] * wt[((c * perGroup + m) * k[0] + a) * k[1] + b];
                            }
            }
        int plane = oh * ow;
        return y.Select((v, i) => (float)(v + bias[i / plane])).ToArray();
    }

    /// <summary>OpenCV's Deconvolution ignores dilation: against Caffe's loops, with Caffe's output size (in − 1)·s − 2p + d·(k − 1) + 1.</summary>
    [Fact]
    public void DilatedDeconvolutionEqualsCaffe()
    {
        var prototxt = Header(("data", [1, 2, 4, 3])) +
            "layer { name: \"deconv\" type: \"Deconvolution\" bottom: \"data\" top: \"deconv\" convolution_param { num_output: 4 group: 2 kernel_h: 3 kernel_w: 2 stride_h: 1 stride_w: 3 pad_h: 1 dilation: 2 dilation: 3 } }\n";
        var w = CaffeTestNet.Random(70, -1, 1, 2, 2, 3, 2);
        var b = CaffeTestNet.Random(71, -1, 1, 4);
        var input = Input("data", 72, 1, 2, 4, 3);
        var (ort, _) = RunLowered(prototxt, new() { ["deconv"] = [w, b] }, [input], ["deconv"], openCv: false);
        var expected = CaffeDeconv(input.Values, 2, 4, 3, [.. w.Data], 2, 2, [3, 2], [1, 3], [1, 0], [2, 3], [.. b.Data], out int oh, out int ow);
        Assert.Equal([1, 4, oh, ow], ort[0].Shape);
        Assert.Equal([6, 10], new[] { oh, ow });
        AssertCaffeEqual(expected, ort[0].Values, "dilated deconvolution");
    }

    [Fact]
    public void ConvolutionOnAnotherAxisIsAnErrorNamingTheLayer()
    {
        var prototxt = Header(("data", [1, 2, 4, 4])) +
            "layer { name: \"conv_ax\" type: \"Convolution\" bottom: \"data\" top: \"conv_ax\" convolution_param { num_output: 2 kernel_size: 1 axis: 2 } }\n";
        var (exit, text) = Lower(prototxt, new() { ["conv_ax"] = [CaffeTestNet.Random(1, -1, 1, 2, 2, 1, 1), CaffeTestNet.Random(2, -1, 1, 2)] });
        Assert.Equal(1, exit);
        Assert.Contains("node 'conv_ax' (Convolution): axis 2: ONNX's Conv takes the channels on axis 1", text);
    }

    [Fact]
    public void ConvolutionAttributesAreCaffesExpandedPerAxis()
    {
        var prototxt = Header(("data", [1, 2, 9, 8])) +
            "layer { name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\" convolution_param { num_output: 2 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 2 stride_h: 2 stride_w: 3 bias_term: false } }\n";
        var (exit, text) = Lower(prototxt, new() { ["conv"] = [CaffeTestNet.Random(1, -1, 1, 2, 2, 3, 1)] });
        Assert.True(exit == 0, text);
        var line = Assert.Single(text.Split('\n'), l => l.Contains("\"onnx.Conv\""));
        Assert.True(line.Contains("{dilations = [1, 1], group = 1 : i64, kernel_shape = [3, 1], mo.outputs = [\"conv\"], pads = [1, 2, 1, 2], strides = [2, 3]} : (tensor<1x2x9x8xf32>, tensor<2x2x3x1xf32>) -> tensor<1x2x5x4xf32>", StringComparison.Ordinal), line);
    }

    // ------------------------------------------------------------------ InnerProduct

    /// <summary>Against Caffe's product (y[m, n] = Σ_k x[m, k]·W[n, k] + b[n]) and, without transpose, OpenCV (which ignores `transpose`).</summary>
    [Theory]
    [InlineData("num_output: 5", false, new[] { 2, 3, 2, 2 })]
    [InlineData("num_output: 5 transpose: true", true, new[] { 2, 3, 2, 2 })]
    [InlineData("num_output: 4 bias_term: false", false, new[] { 3, 6 })]
    [InlineData("num_output: 4 axis: 2", false, new[] { 2, 3, 4, 5 })]
    [InlineData("num_output: 4 axis: -1 transpose: true", true, new[] { 2, 3, 5 })]
    public void InnerProductEqualsCaffe(string param, bool transpose, int[] shape)
    {
        int axis = param.Contains("axis: 2") ? 2 : param.Contains("axis: -1") ? shape.Length - 1 : 1;
        int k = shape.Skip(axis).Aggregate(1, (a, d) => a * d), m = shape.Take(axis).Aggregate(1, (a, d) => a * d);
        int n = int.Parse(param.Split("num_output: ")[1].Split(' ')[0], CultureInfo.InvariantCulture);
        bool bias = !param.Contains("bias_term: false");
        var prototxt = Header(("data", shape)) +
            $"layer {{ name: \"ip\" type: \"InnerProduct\" bottom: \"data\" top: \"ip\" inner_product_param {{ {param} }} }}\n";
        var w = transpose ? CaffeTestNet.Random(7, -1, 1, k, n) : CaffeTestNet.Random(7, -1, 1, n, k);
        var b = CaffeTestNet.Random(8, -1, 1, n);
        var input = Input("data", 9, shape);
        var (ort, cv) = RunLowered(prototxt, new() { ["ip"] = bias ? [w, b] : [w] }, [input], ["ip"], openCv: !transpose);
        var expected = new float[m * n];
        for (int row = 0; row < m; row++)
            for (int col = 0; col < n; col++)
            {
                double sum = bias ? b.Data[col] : 0;
                for (int i = 0; i < k; i++) sum += input.Values[row * k + i] * w.Data[transpose ? i * n + col : col * k + i];
                expected[row * n + col] = (float)sum;
            }
        Assert.Equal([.. shape.Take(axis), n], ort[0].Shape);
        AssertCaffeEqual(expected, ort[0].Values, param);
        if (cv is not null) CaffeReferee.AssertSame(ort, cv, "OpenCV");
    }

    /// <summary>An old caffemodel's weight blob in num/channels/height/width form: 1 x 1 x N x K.</summary>
    [Fact]
    public void InnerProductWithALegacy4DWeightBlobMatchesOpenCv()
    {
        var w = new BlobProto { Num = 1, Channels = 1, Height = 3, Width = 8 };
        w.Data.Add(CaffeTestNet.Values(10, 24));
        var b = new BlobProto { Num = 1, Channels = 1, Height = 1, Width = 3 };
        b.Data.Add(CaffeTestNet.Values(11, 3));
        var prototxt = Header(("data", [2, 2, 2, 2])) +
            "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"data\" top: \"ip\" inner_product_param { num_output: 3 } }\n";
        Check(prototxt, new() { ["ip"] = [w, b] }, [Input("data", 12, 2, 2, 2, 2)], ["ip"]);
    }

    // ------------------------------------------------------------------ Pooling

    /// <summary>Caffe's PoolingLayer::Forward_cpu (MAX, AVE) with its Reshape's output size, transcribed from pooling_layer.cpp.</summary>
    private static float[] CaffePool(float[] x, int channels, int height, int width, int kh, int kw, int sh, int sw, int padH, int padW,
        bool max, bool ceil, out int pooledH, out int pooledW)
    {
        int Size(int input, int pad, int k, int s) =>
            (int)(ceil ? Math.Ceiling((float)(input + 2 * pad - k) / s) : Math.Floor((float)(input + 2 * pad - k) / s)) + 1;
        pooledH = Size(height, padH, kh, sh);
        pooledW = Size(width, padW, kw, sw);
        if (padH != 0 || padW != 0)
        {
            if ((pooledH - 1) * sh >= height + padH) --pooledH;
            if ((pooledW - 1) * sw >= width + padW) --pooledW;
        }
        var top = new float[channels * pooledH * pooledW];
        for (int c = 0; c < channels; c++)
            for (int ph = 0; ph < pooledH; ph++)
                for (int pw = 0; pw < pooledW; pw++)
                {
                    int hstart = ph * sh - padH, wstart = pw * sw - padW;
                    float v;
                    if (max)
                    {
                        int hend = Math.Min(hstart + kh, height), wend = Math.Min(wstart + kw, width);
                        hstart = Math.Max(hstart, 0); wstart = Math.Max(wstart, 0);
                        v = -float.MaxValue;
                        for (int h = hstart; h < hend; h++)
                            for (int w = wstart; w < wend; w++)
                                v = Math.Max(v, x[(c * height + h) * width + w]);
                    }
                    else
                    {
                        int hend = Math.Min(hstart + kh, height + padH), wend = Math.Min(wstart + kw, width + padW);
                        int poolSize = (hend - hstart) * (wend - wstart);
                        hstart = Math.Max(hstart, 0); wstart = Math.Max(wstart, 0);
                        hend = Math.Min(hend, height); wend = Math.Min(wend, width);
                        v = 0;
                        for (int h = hstart; h < hend; h++)
                            for (int w = wstart; w < wend; w++)
                                v += x[(c * height + h) * width + w];
                        v /= poolSize;
                    }
                    top[(c * pooledH + ph) * pooledW + pw] = v;
                }
        return top;
    }

    /// <summary>Equal as Caffe computes them: NaN where Caffe has NaN, -FLT_MAX exactly, others within 1e-5 relative.</summary>
    private static void AssertCaffeEqual(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, Caffe has {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            bool same = float.IsNaN(e) ? float.IsNaN(a) : Math.Abs(e - a) <= 1e-5 * Math.Max(1, Math.Abs(e));
            Assert.True(same, $"{what}: element {i} is {a}, Caffe computes {e}");
        }
    }

    private sealed record PoolCase(string Name, int In, int Kernel, int Stride, int Pad, bool Max);

    /// <summary>
    /// Every (in, kernel, stride, pad) with in 1..9, kernel 1..4, stride 1..5, pad 0..kernel-1 that Caffe accepts, MAX
    /// and AVE, on H x W = in x (in + 1): the ceil that adds a window, its clip when it would start in the padding,
    /// stride > kernel, kernel > in + pad. Each layer against Caffe's loops (incl. its -FLT_MAX / NaN empty windows)
    /// and, where Caffe's windows are not empty, against OpenCV.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PoolingEqualsCaffeForEverySmallSize(bool max)
    {
        var sb = new StringBuilder();
        var cases = new List<PoolCase>();
        var inputs = new List<CaffeInput>();
        for (int size = 1; size <= 9; size++)
        {
            inputs.Add(Input($"in{size}", 20 + size, 1, 2, size, size + 1));
            for (int k = 1; k <= 4; k++)
                for (int s = 1; s <= 5; s++)
                    for (int p = 0; p < k; p++)
                    {
                        CaffePool(new float[2 * size * (size + 1)], 2, size, size + 1, k, k, s, s, p, p, max, true, out int oh, out int ow);
                        if (oh < 1 || ow < 1) continue;
                        var c = new PoolCase($"p_{size}_{k}_{s}_{p}", size, k, s, p, max);
                        cases.Add(c);
                        sb.Append(CultureInfo.InvariantCulture, $"layer {{ name: \"{c.Name}\" type: \"Pooling\" bottom: \"in{size}\" top: \"{c.Name}\" pooling_param {{ pool: {(max ? "MAX" : "AVE")} kernel_size: {k} stride: {s} pad: {p} }} }}\n");
                    }
        }
        var prototxt = Header([.. inputs.Select(i => (i.Name, i.Shape))]) + sb;
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "pools", prototxt);
        var onnx = dir.File("pools.onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "-o", onnx]);
        Assert.True(exit == 0, stderr);
        var ort = CaffeReferee.RunOrt(onnx, inputs, [.. cases.Select(c => c.Name)]);
        var openCvCases = new List<int>();
        int emptyWindows = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var x = inputs.Single(input => input.Name == $"in{c.In}").Values;
            var expected = CaffePool(x, 2, c.In, c.In + 1, c.Kernel, c.Kernel, c.Stride, c.Stride, c.Pad, c.Pad, max, true, out int oh, out int ow);
            Assert.Equal([1, 2, oh, ow], ort[i].Shape);
            AssertCaffeEqual(expected, ort[i].Values, $"{c.Name} (in {c.In}x{c.In + 1}, k {c.Kernel}, s {c.Stride}, p {c.Pad})");
            // OpenCV differs from Caffe where Caffe pools an empty window (it writes 0) and refuses a kernel wider than the padded input.
            if (expected.Any(v => float.IsNaN(v) || v == -float.MaxValue || (!max && v == 0))) emptyWindows++;
            else if (c.Kernel <= c.In + 2 * c.Pad) openCvCases.Add(i);
        }
        var cvText = Header([.. inputs.Select(i => (i.Name, i.Shape))]) + string.Concat(openCvCases.Select(i =>
            string.Create(CultureInfo.InvariantCulture, $"layer {{ name: \"{cases[i].Name}\" type: \"Pooling\" bottom: \"in{cases[i].In}\" top: \"{cases[i].Name}\" pooling_param {{ pool: {(max ? "MAX" : "AVE")} kernel_size: {cases[i].Kernel} stride: {cases[i].Stride} pad: {cases[i].Pad} }} }}\n")));
        var cvNet = CaffeTestNet.Write(dir, "opencv_pools", cvText);
        var cv = CaffeReferee.RunOpenCv(cvNet.Prototxt, null, inputs, [.. openCvCases.Select(i => cases[i].Name)]);
        for (int j = 0; j < openCvCases.Count; j++)
        {
            var actual = ort[openCvCases[j]];
            Assert.Equal(cv[j].Shape, actual.Shape);
            AssertCaffeEqual(cv[j].Values, actual.Values, $"{cases[openCvCases[j]].Name} against OpenCV");
        }
        Assert.True(cases.Count > 300 && emptyWindows > 20 && openCvCases.Count > 250, $"{cases.Count} cases, {emptyWindows} with empty windows, {openCvCases.Count} against OpenCV");
    }

    /// <summary>Rectangular kernels, strides and pads, and round_mode FLOOR (OpenCV reads field 13 as its own ceil_mode bool, so Caffe's loops referee).</summary>
    [Theory]
    [InlineData("pool: MAX kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3 pad_h: 1 pad_w: 0", true, 3, 2, 2, 3, 1, 0, true)]
    [InlineData("pool: AVE kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3 pad_h: 1 pad_w: 0", false, 3, 2, 2, 3, 1, 0, true)]
    [InlineData("pool: AVE kernel_h: 2 kernel_w: 3 stride_h: 3 stride_w: 2 pad_h: 0 pad_w: 2", false, 2, 3, 3, 2, 0, 2, true)]
    [InlineData("pool: AVE kernel_size: 3 stride: 2 pad: 1 round_mode: FLOOR", false, 3, 3, 2, 2, 1, 1, false)]
    [InlineData("pool: MAX kernel_size: 2 stride: 2 round_mode: FLOOR", true, 2, 2, 2, 2, 0, 0, false)]
    public void PoolingWithPerAxisParametersEqualsCaffe(string param, bool max, int kh, int kw, int sh, int sw, int padH, int padW, bool ceil)
    {
        var prototxt = Header(("data", [1, 2, 7, 8])) + $"layer {{ name: \"pool\" type: \"Pooling\" bottom: \"data\" top: \"pool\" pooling_param {{ {param} }} }}\n";
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "pool", prototxt);
        var onnx = dir.File("pool.onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "-o", onnx]);
        Assert.True(exit == 0, stderr);
        var input = Input("data", 30, 1, 2, 7, 8);
        var expected = CaffePool(input.Values, 2, 7, 8, kh, kw, sh, sw, padH, padW, max, ceil, out int oh, out int ow);
        var actual = CaffeReferee.RunOrt(onnx, [input], ["pool"]).Single();
        Assert.Equal([1, 2, oh, ow], actual.Shape);
        AssertCaffeEqual(expected, actual.Values, param);
        if (ceil) CaffeReferee.AssertSame([actual], CaffeReferee.RunOpenCv(net.Prototxt, null, [input], ["pool"]), "OpenCV");
    }

    [Theory]
    [InlineData("MAX")]
    [InlineData("AVE")]
    public void GlobalPoolingMatchesOpenCv(string method)
    {
        var prototxt = Header(("data", [2, 3, 5, 4])) +
            $"layer {{ name: \"gp\" type: \"Pooling\" bottom: \"data\" top: \"gp\" pooling_param {{ pool: {method} global_pooling: true }} }}\n";
        Check(prototxt, new(), [Input("data", 31, 2, 3, 5, 4)], ["gp"]);
        Assert.Contains(method == "MAX" ? "\"onnx.GlobalMaxPool\"" : "\"onnx.GlobalAveragePool\"", Lower(prototxt, null).Text);
    }

    [Fact]
    public void StochasticPoolingIsAnErrorNamingTheLayer()
    {
        var prototxt = Header(("data", [1, 1, 4, 4])) +
            "layer { name: \"sp\" type: \"Pooling\" bottom: \"data\" top: \"sp\" pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 } }\n";
        var (exit, text) = Lower(prototxt, null);
        Assert.Equal(1, exit);
        Assert.Contains("node 'sp' (Pooling): pool STOCHASTIC", text);
    }

    // ------------------------------------------------------------------ BatchNorm, Scale, Bias

    /// <summary>Mean and variance stored times the scale factor, as Caffe accumulates them (a factor of 0 keeps them as they are: Caffe then uses 0).</summary>
    private static BlobProto[] BatchNormBlobs(int channels, float scaleFactor) => BatchNormBlobs(channels, scaleFactor, scaleFactor == 0 ? 1 : scaleFactor);

    private static BlobProto[] BatchNormBlobs(int channels, float scaleFactor, float stored) =>
    [
        CaffeTestNet.Blob([.. CaffeTestNet.Values(40, channels).Select(v => v * stored)], channels),
        CaffeTestNet.Blob([.. CaffeTestNet.Values(41, channels, 0.5f, 2).Select(v => v * stored)], channels),
        CaffeTestNet.Blob([scaleFactor], 1),
    ];

    [Theory]
    [InlineData(1f, "")]
    [InlineData(7.5f, "eps: 0.001")]
    [InlineData(0f, "use_global_stats: true")]
    public void BatchNormMatchesOpenCv(float scaleFactor, string param)
    {
        var prototxt = Header(("data", [2, 3, 4, 5])) +
            $"layer {{ name: \"bn\" type: \"BatchNorm\" bottom: \"data\" top: \"bn\" batch_norm_param {{ {param} }} }}\n";
        Check(prototxt, new() { ["bn"] = BatchNormBlobs(3, scaleFactor) }, [Input("data", 42, 2, 3, 4, 5)], ["bn"]);
    }

    [Fact]
    public void BatchNormWithBatchStatisticsIsAnErrorNamingTheLayer()
    {
        var prototxt = Header(("data", [2, 3, 4, 5])) +
            "layer { name: \"bn_train\" type: \"BatchNorm\" bottom: \"data\" top: \"bn_train\" batch_norm_param { use_global_stats: false } }\n";
        var (exit, text) = Lower(prototxt, new() { ["bn_train"] = BatchNormBlobs(3, 1) });
        Assert.Equal(1, exit);
        Assert.Contains("node 'bn_train' (BatchNorm): use_global_stats is false", text);
    }

    private const string BnScale = """
        layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" }
        layer { name: "scale" type: "Scale" bottom: "bn" top: "scale" scale_param { bias_term: true } }
        """;

    /// <summary>One BatchNormalization with the Scale's blobs as its scale and bias.</summary>
    [Fact]
    public void BatchNormThenScaleIsOneBatchNormalization()
    {
        var prototxt = Header(("data", [2, 3, 4, 5])) + BnScale;
        var blobs = new Dictionary<string, BlobProto[]>
        {
            ["bn"] = BatchNormBlobs(3, 2f),
            ["scale"] = [CaffeTestNet.Random(43, 0.5f, 2, 3), CaffeTestNet.Random(44, -1, 1, 3)],
        };
        Check(prototxt, blobs, [Input("data", 45, 2, 3, 4, 5)], ["scale"]);
        var (exit, text) = Lower(prototxt, blobs);
        Assert.True(exit == 0, text);
        Assert.Single(text.Split('\n'), line => line.Contains("\"onnx.BatchNormalization\""));
        Assert.DoesNotContain("onnx.Mul", text);
        Assert.DoesNotContain("onnx.Add", text);
    }

    /// <summary>A Scale that is not per channel (axis 2) stays a Mul after the BatchNormalization, and still agrees.</summary>
    [Fact]
    public void BatchNormThenAScaleOnAnotherAxisIsNotFolded()
    {
        var prototxt = Header(("data", [1, 3, 4, 5])) + """
            layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" }
            layer { name: "scale" type: "Scale" bottom: "bn" top: "scale" scale_param { axis: 2 num_axes: 1 } }
            """;
        var blobs = new Dictionary<string, BlobProto[]> { ["bn"] = BatchNormBlobs(3, 1f), ["scale"] = [CaffeTestNet.Random(46, -1, 1, 4)] };
        Check(prototxt, blobs, [Input("data", 47, 1, 3, 4, 5)], ["scale"]);
        Assert.Contains("onnx.Mul", Lower(prototxt, blobs).Text);
    }

    /// <summary>Caffe's Scale/Bias: y[o, d, i] = x[o, d, i]·f[d] + b[d] with d over the factor's axes (outer: before axis, inner: after them).</summary>
    private static float[] CaffeScale(float[] x, int[] shape, int axis, int[] factorShape, float[]? factor, float[]? bias)
    {
        int outer = shape.Take(axis).Aggregate(1, (a, d) => a * d), dim = factorShape.Aggregate(1, (a, d) => a * d);
        int inner = x.Length / outer / dim;
        var y = new float[x.Length];
        for (int o = 0; o < outer; o++)
            for (int d = 0; d < dim; d++)
                for (int i = 0; i < inner; i++)
                {
                    int at = (o * dim + d) * inner + i;
                    y[at] = x[at] * (factor?[d] ?? 1) + (bias?[d] ?? 0);
                }
        return y;
    }

    /// <summary>Against Caffe's loops and, where OpenCV takes the parameters (not a negative axis or a scalar factor), OpenCV.</summary>
    [Theory]
    [InlineData("", new[] { 3 }, 1, false, true)]
    [InlineData("bias_term: true", new[] { 3 }, 1, true, true)]
    [InlineData("axis: 2 num_axes: 2", new[] { 4, 5 }, 2, false, true)]
    [InlineData("axis: 1 num_axes: -1 bias_term: true", new[] { 3, 4, 5 }, 1, true, true)]
    [InlineData("axis: -2", new[] { 4 }, 2, false, false)]
    [InlineData("axis: 0 num_axes: 0", new int[0], 0, false, false)]
    public void ScaleEqualsCaffe(string param, int[] scaleShape, int axis, bool bias, bool openCv)
    {
        int[] shape = [2, 3, 4, 5];
        var prototxt = Header(("data", shape)) +
            $"layer {{ name: \"scale\" type: \"Scale\" bottom: \"data\" top: \"scale\" scale_param {{ {param} }} }}\n";
        var dims = scaleShape.Select(d => (long)d).ToArray();
        var f = CaffeTestNet.Random(48, -2, 2, dims);
        var b = CaffeTestNet.Random(49, -1, 1, dims);
        var input = Input("data", 50, shape);
        var (ort, cv) = RunLowered(prototxt, new() { ["scale"] = bias ? [f, b] : [f] }, [input], ["scale"], openCv);
        AssertCaffeEqual(CaffeScale(input.Values, shape, axis, scaleShape, [.. f.Data], bias ? [.. b.Data] : null), ort[0].Values, param);
        if (cv is not null) CaffeReferee.AssertSame(ort, cv, "OpenCV");
    }

    /// <summary>Scale of two bottoms: the second is the factor, laid on the first's axes from `axis`.</summary>
    [Fact]
    public void ScaleByASecondBottomMatchesOpenCv()
    {
        var prototxt = Header(("data", [2, 3, 4, 5]), ("factor", [2, 3])) +
            "layer { name: \"scale\" type: \"Scale\" bottom: \"data\" bottom: \"factor\" top: \"scale\" scale_param { axis: 0 } }\n";
        var inputs = new[] { Input("data", 51, 2, 3, 4, 5), Input("factor", 52, 2, 3) };
        var (ort, cv) = RunLowered(prototxt, new(), inputs, ["scale"], openCv: true);
        AssertCaffeEqual(CaffeScale(inputs[0].Values, [2, 3, 4, 5], 0, [2, 3], inputs[1].Values, null), ort[0].Values, "two bottoms");
        CaffeReferee.AssertSame(ort, cv!, "OpenCV");
    }

    /// <summary>OpenCV has no Bias layer: against Caffe's loops.</summary>
    [Theory]
    [InlineData("", new[] { 3 }, 1)]
    [InlineData("axis: 2 num_axes: 2", new[] { 4, 5 }, 2)]
    public void BiasEqualsCaffe(string param, int[] biasShape, int axis)
    {
        int[] shape = [2, 3, 4, 5];
        var prototxt = Header(("data", shape)) +
            $"layer {{ name: \"bias\" type: \"Bias\" bottom: \"data\" top: \"bias\" bias_param {{ {param} }} }}\n";
        var b = CaffeTestNet.Random(53, -1, 1, biasShape.Select(d => (long)d).ToArray());
        var input = Input("data", 54, shape);
        var (ort, _) = RunLowered(prototxt, new() { ["bias"] = [b] }, [input], ["bias"], openCv: false);
        AssertCaffeEqual(CaffeScale(input.Values, shape, axis, biasShape, null, [.. b.Data]), ort[0].Values, param);
    }

    /// <summary>
    /// Conv → BatchNorm → Scale lowered, then --pipeline=deploy: fold-bn puts the one BatchNormalization into the Conv,
    /// so no BatchNormalization, Mul or Add is left, and the outputs agree with the unfolded lowering within 1e-5.
    /// </summary>
    [Fact]
    public void DeployFoldsBatchNormAndScaleIntoTheConvolution()
    {
        var prototxt = Header(("data", [1, 2, 6, 6])) + """
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 3 kernel_size: 3 pad: 1 } }
            layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "bn" batch_norm_param { eps: 0.0001 } }
            layer { name: "scale" type: "Scale" bottom: "bn" top: "scale" scale_param { bias_term: true } }
            """;
        var blobs = new Dictionary<string, BlobProto[]>
        {
            ["conv"] = [CaffeTestNet.Random(60, -1, 1, 3, 2, 3, 3), CaffeTestNet.Random(61, -1, 1, 3)],
            ["bn"] = BatchNormBlobs(3, 3f),
            ["scale"] = [CaffeTestNet.Random(62, 0.5f, 2, 3), CaffeTestNet.Random(63, -1, 1, 3)],
        };
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "cbs", prototxt, blobs);
        var input = Input("data", 64, 1, 2, 6, 6);
        CaffeReferee.AssertLoweredMatchesOpenCv(net, dir, [input], ["scale"]);
        var plain = CaffeReferee.RunOrt(dir.File("cbs.onnx"), [input], ["scale"]).Single();

        var mir = dir.File("deployed.mir");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "--convert-caffe-to-onnx", "--pipeline=deploy", "-o", mir]);
        Assert.True(exit == 0, stderr);
        var text = File.ReadAllText(mir);
        Assert.Single(text.Split('\n'), line => line.Contains("\"onnx.Conv\""));
        foreach (var op in new[] { "onnx.BatchNormalization", "onnx.Mul", "onnx.Add" }) Assert.DoesNotContain(op, text);
        var deployed = dir.File("deployed.onnx");
        (exit, _, stderr) = Mir.Opt([net.Prototxt, "--convert-caffe-to-onnx", "--pipeline=deploy", "-o", deployed]);
        Assert.True(exit == 0, stderr);
        var folded = CaffeReferee.RunOrt(deployed, [input], ["scale"]).Single();
        Assert.Equal(plain.Shape, folded.Shape);
        for (int i = 0; i < plain.Values.Length; i++) Assert.True(Math.Abs(plain.Values[i] - folded.Values[i]) <= 1e-5 * Math.Max(1, Math.Abs(plain.Values[i])), $"element {i}: {folded.Values[i]} vs {plain.Values[i]}");
    }
}
