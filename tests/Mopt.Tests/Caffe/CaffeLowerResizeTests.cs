using Mopt.Tests.Tf;

namespace Mopt.Tests.Caffe;

/// <summary>
/// The lowering of Caffe's resizing layers (passes/Conversion/CaffeToOnnx/CaffeResizeLowerings.cs). OpenCV cannot
/// referee them: its caffe.proto has no upsample_param or interp_param, and its Interp takes one input only. So they are
/// checked against the forks' formulas: upsample_layer.cpp's nearest copy, and interp.cpp's caffe_cpu_interp2 (written
/// out below) over the crop interp_layer.cpp gives it.
/// </summary>
public sealed class CaffeLowerResizeTests
{
    [Fact]
    public void DarknetUpsampleRepeatsEachPixelScaleTimesEachWay()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "up", """
            input: "data"
            input_shape { dim: 1 dim: 2 dim: 3 dim: 4 }
            layer { name: "up" type: "Upsample" bottom: "data" top: "up" upsample_param { scale: 3 } }
            """);
        var x = CaffeTestNet.Values(seed: 1, count: 24);
        var y = LowerAndRun(net, dir, [new CaffeInput("data", [1, 2, 3, 4], x)], "up");
        Assert.Equal([1, 2, 9, 12], y.Shape);
        for (int c = 0; c < 2; c++)
            for (int h = 0; h < 9; h++)
                for (int w = 0; w < 12; w++)
                    Assert.Equal(x[(c * 3 + h / 3) * 4 + w / 3], y.Values[(c * 9 + h) * 12 + w]);
    }

    [Theory]
    [InlineData("zoom_factor: 2", 0, 0, 5, 7)]                   // (H - 1) * 2 + 1
    [InlineData("shrink_factor: 2", 0, 0, 2, 2)]                 // (H - 1) / 2 + 1
    [InlineData("height: 7 width: 5", 0, 0, 7, 5)]
    [InlineData("zoom_factor: 3 pad_beg: -1 pad_end: 0", -1, 0, 4, 7)]   // cropped to 2x3 first
    [InlineData("shrink_factor: 2 zoom_factor: 3", 0, 0, 4, 4)] // shrink, then zoom
    [InlineData("height: 1 width: 6", 0, 0, 1, 6)]               // Hout = 1 samples row 0
    public void InterpResizesAlignCornersAsInterpCppDoes(string param, int padBeg, int padEnd, int hOut, int wOut)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "interp", $$"""
            input: "data"
            input_shape { dim: 1 dim: 2 dim: 3 dim: 4 }
            layer { name: "interp" type: "Interp" bottom: "data" top: "interp" interp_param { {{param}} } }
            """);
        var x = CaffeTestNet.Values(seed: 2, count: 24);
        var y = LowerAndRun(net, dir, [new CaffeInput("data", [1, 2, 3, 4], x)], "interp");
        Assert.Equal([1, 2, hOut, wOut], y.Shape);
        var expected = Interp2(x, 2, 3, 4, padBeg, padEnd, hOut, wOut);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], y.Values[i], 1e-5f);
    }

    [Fact]
    public void InterpWithTwoBottomsTakesTheSecondsHeightAndWidth()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "interp2", """
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 4 dim: 5 }
            input: "like"
            input_shape { dim: 1 dim: 1 dim: 9 dim: 7 }
            layer { name: "interp" type: "Interp" bottom: "data" bottom: "like" top: "interp" }
            """);
        var x = CaffeTestNet.Values(seed: 3, count: 60);
        var y = LowerAndRun(net, dir, [new CaffeInput("data", [1, 3, 4, 5], x), new CaffeInput("like", [1, 1, 9, 7], CaffeTestNet.Values(4, 63))], "interp");
        Assert.Equal([1, 3, 9, 7], y.Shape);
        var expected = Interp2(x, 3, 4, 5, 0, 0, 9, 7);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], y.Values[i], 1e-5f);
    }

    [Theory]
    [InlineData("""layer { name: "up" type: "Upsample" bottom: "data" bottom: "mask" top: "up" upsample_param { scale: 2 } }""", "node 'up' (Upsample)", "SegNet")]
    [InlineData("""layer { name: "interp" type: "Interp" bottom: "data" top: "interp" interp_param { zoom_factor: 2 pad_end: 1 } }""", "node 'interp' (Interp)", "pads")]
    [InlineData("""layer { name: "interp" type: "Interp" bottom: "data" top: "interp" }""", "node 'interp' (Interp)", "no output size")]
    public void WhatIsNotLoweredIsAnErrorNamingTheLayerAndNothingIsWritten(string layer, string node, string why)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "bad", $"""
            input: "data"
            input_shape {"{"} dim: 1 dim: 2 dim: 4 dim: 4 {"}"}
            input: "mask"
            input_shape {"{"} dim: 1 dim: 2 dim: 4 dim: 4 {"}"}
            {layer}
            """);
        var onnx = dir.File("bad.onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "--caffe-weights=" + net.CaffeModel, "-o", onnx]);
        Assert.Equal(1, exit);
        Assert.Contains(node, stderr);
        Assert.Contains(why, stderr);
        Assert.False(File.Exists(onnx));
    }

    private static OpenCvOutput LowerAndRun(CaffeTestNet net, TempDir dir, IReadOnlyList<CaffeInput> inputs, string output)
    {
        var onnx = dir.File(Path.GetFileNameWithoutExtension(net.Prototxt) + ".onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "--caffe-weights=" + net.CaffeModel, "-o", onnx]);
        Assert.True(exit == 0, stderr);
        return CaffeReferee.RunOrt(onnx, inputs, [output]).Single();
    }

    /// <summary>interp.cpp's caffe_cpu_interp2 over the input cropped by the pads (≤ 0), as interp_layer.cpp calls it.</summary>
    private static float[] Interp2(float[] x, int channels, int height, int width, int padBeg, int padEnd, int h2s, int w2s)
    {
        int h1s = height + padBeg + padEnd, w1s = width + padBeg + padEnd, y1 = -padBeg, x1 = -padBeg;
        var y = new float[channels * h2s * w2s];
        float rh = h2s > 1 ? (float)(h1s - 1) / (h2s - 1) : 0f, rw = w2s > 1 ? (float)(w1s - 1) / (w2s - 1) : 0f;
        for (int c = 0; c < channels; c++)
            for (int h2 = 0; h2 < h2s; h2++)
            {
                float h1r = h1s == h2s ? h2 : rh * h2;
                int h1 = (int)h1r, h1p = h1 < h1s - 1 ? 1 : 0;
                float h1l = h1r - h1, h0l = 1 - h1l;
                for (int w2 = 0; w2 < w2s; w2++)
                {
                    float w1r = w1s == w2s && h1s == h2s ? w2 : rw * w2;
                    int w1 = (int)w1r, w1p = w1 < w1s - 1 ? 1 : 0;
                    float w1l = w1r - w1, w0l = 1 - w1l;
                    int p = (c * height + y1 + h1) * width + x1 + w1;
                    y[(c * h2s + h2) * w2s + w2] = h0l * (w0l * x[p] + w1l * x[p + w1p]) + h1l * (w0l * x[p + h1p * width] + w1l * x[p + h1p * width + w1p]);
                }
            }
        return y;
    }
}
