using Mopt.Tests.Tf;
using Mopt.Caffe.Proto;

namespace Mopt.Tests.Caffe;

/// <summary>
/// The lowering of SSD's layers (passes/Conversion/CaffeToOnnx/CaffeDetectionLowerings.cs), refereed by OpenCV:
/// Normalize on an input, PriorBox over a feature map and an image, and an SSD head ending in DetectionOutput, which is
/// an error naming it, with the strip-unused way out.
/// </summary>
public sealed class CaffeLowerSsdTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void NormalizeMatchesOpenCv(bool acrossSpatial, bool channelShared)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "norm", $$"""
            input: "data"
            input_shape { dim: 2 dim: 3 dim: 4 dim: 5 }
            layer { name: "norm" type: "Normalize" bottom: "data" top: "norm"
                    norm_param { across_spatial: {{Bool(acrossSpatial)}} channel_shared: {{Bool(channelShared)}} eps: 0.001 } }
            """, new Dictionary<string, BlobProto[]>
            {
                ["norm"] = [channelShared ? LegacyScalar(20f) : CaffeTestNet.Random(5, 1, 20, 3)],
            });
        // Small values, so that eps (inside the square root) changes the result measurably.
        var x = CaffeTestNet.Values(seed: 6, count: 120, -0.05f, 0.05f);
        CaffeReferee.AssertLoweredMatchesOpenCv(net, dir, [new CaffeInput("data", [2, 3, 4, 5], x)], ["norm"]);
    }

    [Theory]
    [InlineData("min_size: 8 max_size: 16 aspect_ratio: 2 flip: true clip: true variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2")]
    [InlineData("min_size: 12 aspect_ratio: 0.5 aspect_ratio: 3 aspect_ratio: 0.5 step: 7 offset: 0.25 clip: false variance: 0.15")]
    [InlineData("min_size: 10 max_size: 21 aspect_ratio: 2 flip: false step_h: 9 step_w: 5 clip: false variance: 0.1")]
    public void PriorBoxIsTheConstantOpenCvComputes(string param)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "prior", $$"""
            input: "feature"
            input_shape { dim: 1 dim: 4 dim: 3 dim: 5 }
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 30 dim: 32 }
            layer { name: "prior" type: "PriorBox" bottom: "feature" bottom: "data" top: "prior" prior_box_param { {{param}} } }
            """);
        var inputs = new[]
        {
            new CaffeInput("feature", [1, 4, 3, 5], CaffeTestNet.Values(7, 60)),
            new CaffeInput("data", [1, 3, 30, 32], CaffeTestNet.Values(8, 2880)),
        };
        CaffeReferee.AssertLoweredMatchesOpenCv(net, dir, inputs, ["prior"]);
    }

    /// <summary>
    /// An SSD head: Normalize on the feature map, its PriorBox, and the location and confidence blobs (here produced by
    /// Normalize layers over inputs, standing in for the Permute/Flatten/Concat branches) feeding DetectionOutput.
    /// </summary>
    private const string SsdHead = """
        input: "data"
        input_shape { dim: 1 dim: 3 dim: 32 dim: 32 }
        input: "conv4_3"
        input_shape { dim: 1 dim: 4 dim: 2 dim: 2 }
        input: "loc"
        input_shape { dim: 1 dim: 64 }
        input: "conf"
        input_shape { dim: 1 dim: 48 }
        layer { name: "conv4_3_norm" type: "Normalize" bottom: "conv4_3" top: "conv4_3_norm" norm_param { across_spatial: false channel_shared: false } }
        layer { name: "mbox_priorbox" type: "PriorBox" bottom: "conv4_3_norm" bottom: "data" top: "mbox_priorbox"
                prior_box_param { min_size: 8 max_size: 16 aspect_ratio: 2 flip: true clip: false variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 step: 16 } }
        layer { name: "mbox_loc" type: "Normalize" bottom: "loc" top: "mbox_loc" norm_param { across_spatial: false channel_shared: true } }
        layer { name: "mbox_conf_flatten" type: "Normalize" bottom: "conf" top: "mbox_conf_flatten" norm_param { across_spatial: true channel_shared: true } }
        layer { name: "detection_out" type: "DetectionOutput" bottom: "mbox_loc" bottom: "mbox_conf_flatten" bottom: "mbox_priorbox" top: "detection_out"
                detection_output_param { num_classes: 3 share_location: true background_label_id: 0
                  nms_param { nms_threshold: 0.45 top_k: 10 } code_type: CENTER_SIZE keep_top_k: 5 confidence_threshold: 0.01 } }
        """;

    private static CaffeTestNet WriteSsdHead(TempDir dir) => CaffeTestNet.Write(dir, "ssd", SsdHead, new Dictionary<string, BlobProto[]>
    {
        ["conv4_3_norm"] = [CaffeTestNet.Random(9, 10, 30, 4)],
        ["mbox_loc"] = [LegacyScalar(0.5f)],
        ["mbox_conf_flatten"] = [LegacyScalar(3f)],
    });

    private static CaffeInput[] SsdInputs =>
    [
        new("data", [1, 3, 32, 32], CaffeTestNet.Values(10, 3072)),
        new("conv4_3", [1, 4, 2, 2], CaffeTestNet.Values(11, 16)),
        new("loc", [1, 64], CaffeTestNet.Values(12, 64)),
        new("conf", [1, 48], CaffeTestNet.Values(13, 48)),
    ];

    [Fact]
    public void DetectionOutputIsAnErrorNamingItAndTheWayOut()
    {
        using var dir = new TempDir();
        var net = WriteSsdHead(dir);
        // OpenCV runs the whole head: the net is a valid SSD head, only mopt refuses its last layer.
        var detections = CaffeReferee.RunOpenCv(net.Prototxt, net.CaffeModel, SsdInputs, ["detection_out"]).Single();
        Assert.Equal(7, detections.Shape[^1]);

        var onnx = dir.File("ssd.onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "-o", onnx]);
        Assert.Equal(1, exit);
        Assert.True(stderr.Contains("node 'detection_out' (DetectionOutput)"), stderr);
        Assert.Contains("--strip-unused='outputs=", stderr);
        Assert.DoesNotContain("conv4_3_norm", stderr);
        Assert.False(File.Exists(onnx));
    }

    [Fact]
    public void StripUnusedEndsTheNetBeforeDetectionOutputAndTheRestMatchesOpenCv()
    {
        using var dir = new TempDir();
        var net = WriteSsdHead(dir);
        var onnx = dir.File("ssd.onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "--strip-unused=outputs=mbox_loc,mbox_conf_flatten", "-o", onnx]);
        Assert.True(exit == 0, stderr);

        // The ONNX model's outputs are the Caffe tops; the inputs only what they need (loc and conf).
        string[] outputs = ["mbox_loc", "mbox_conf_flatten"];
        var reference = CaffeReferee.RunOpenCv(net.Prototxt, net.CaffeModel, SsdInputs, outputs);
        var needed = SsdInputs.Where(i => i.Name is "loc" or "conf").ToArray();
        var actual = CaffeReferee.RunOrt(onnx, needed, outputs);
        CaffeReferee.AssertSame(actual, reference, "ONNX Runtime on the stripped, lowered SSD head");
        using var ort = new Mopt.Backend.Runtime.OrtRunner(onnx);
        Assert.Equal(["loc", "conf"], ort.InputNames);
        Assert.Equal(outputs, ort.OutputNames);
    }

    [Fact]
    public void StripUnusedKeepingThePriorsGivesThemAsAConstantOutput()
    {
        using var dir = new TempDir();
        var net = WriteSsdHead(dir);
        var onnx = dir.File("ssd.onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "--strip-unused=outputs=mbox_loc,mbox_conf_flatten,mbox_priorbox", "-o", onnx]);
        Assert.True(exit == 0, stderr);
        string[] outputs = ["mbox_loc", "mbox_conf_flatten", "mbox_priorbox"];
        var reference = CaffeReferee.RunOpenCv(net.Prototxt, net.CaffeModel, SsdInputs, outputs);
        using var ort = new Mopt.Backend.Runtime.OrtRunner(onnx);
        var actual = CaffeReferee.RunOrt(onnx, SsdInputs.Where(i => ort.InputNames.Contains(i.Name)).ToArray(), outputs);
        CaffeReferee.AssertSame(actual, reference, "ONNX Runtime on the stripped, lowered SSD head");
        Assert.Equal([1, 2, 2 * 2 * 4 * 4], actual[2].Shape);
    }

    /// <summary>A name an in-place layer rewrites is the last writer's value, as in Caffe's net (OpenCV names it by that layer).</summary>
    [Fact]
    public void StripUnusedTakesTheLastWriterOfAnInPlaceName()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "inplace", """
            input: "x"
            input_shape { dim: 1 dim: 2 dim: 2 dim: 2 }
            layer { name: "n1" type: "Normalize" bottom: "x" top: "y" norm_param { across_spatial: false channel_shared: false } }
            layer { name: "n2" type: "Normalize" bottom: "y" top: "y" norm_param { across_spatial: false channel_shared: false eps: 0.5 } }
            layer { name: "n3" type: "Normalize" bottom: "y" top: "z" norm_param { across_spatial: false channel_shared: false } }
            """, new Dictionary<string, BlobProto[]>
            {
                ["n1"] = [CaffeTestNet.Blob([2f, 3f], 2)], ["n2"] = [CaffeTestNet.Blob([5f, 7f], 2)], ["n3"] = [CaffeTestNet.Blob([1f, 1f], 2)],
            });
        var inputs = new[] { new CaffeInput("x", [1, 2, 2, 2], CaffeTestNet.Values(15, 8)) };
        var onnx = dir.File("inplace.onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "--strip-unused=outputs=y", "-o", onnx]);
        Assert.True(exit == 0, stderr);
        var reference = CaffeReferee.RunOpenCv(net.Prototxt, net.CaffeModel, inputs, ["n2"]).Single();
        var actual = CaffeReferee.RunOrt(onnx, inputs, ["y"]).Single();
        CaffeReferee.AssertSame([actual with { Name = "n2" }], [reference], "ONNX Runtime on the net stripped at 'y'");
    }

    /// <summary>OpenCV rejects a per-channel scale with across_spatial; the fork's formula: x / sqrt(Σ_chw x² + eps) · scale[c].</summary>
    [Fact]
    public void NormalizeAcrossSpatialWithAScalePerChannelFollowsNormalizeLayerCpp()
    {
        using var dir = new TempDir();
        var scale = new[] { 2f, -3f, 0.5f };
        var net = CaffeTestNet.Write(dir, "norm", """
            input: "data"
            input_shape { dim: 2 dim: 3 dim: 2 dim: 2 }
            layer { name: "norm" type: "Normalize" bottom: "data" top: "norm" norm_param { across_spatial: true channel_shared: false eps: 0.01 } }
            """, new Dictionary<string, BlobProto[]> { ["norm"] = [CaffeTestNet.Blob(scale, 3)] });
        var x = CaffeTestNet.Values(seed: 14, count: 24, -0.1f, 0.1f);
        var y = Lowered(net, dir, [new CaffeInput("data", [2, 3, 2, 2], x)], "norm");
        for (int n = 0; n < 2; n++)
        {
            double sum = 0;
            for (int i = 0; i < 12; i++) sum += x[n * 12 + i] * x[n * 12 + i];
            double norm = Math.Sqrt(sum + 0.01);
            for (int i = 0; i < 12; i++) Assert.Equal(x[n * 12 + i] / norm * scale[i / 4], y.Values[n * 12 + i], 1e-5);
        }
    }

    /// <summary>
    /// OpenCV takes one min_size and one max_size and ignores img_h/img_w; several sizes and a given image size are
    /// checked against prior_box_layer.cpp's loops, written out here.
    /// </summary>
    [Fact]
    public void PriorBoxWithSeveralSizesAndAGivenImageSizeFollowsPriorBoxLayerCpp()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "prior", """
            input: "feature"
            input_shape { dim: 1 dim: 4 dim: 2 dim: 3 }
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 30 dim: 32 }
            layer { name: "prior" type: "PriorBox" bottom: "feature" bottom: "data" top: "prior"
                    prior_box_param { min_size: 6 min_size: 10.7 max_size: 9 max_size: 14 aspect_ratio: 2 aspect_ratio: 3 aspect_ratio: 2 flip: true
                                      img_h: 40 img_w: 24 clip: true } }
            """);
        var y = Lowered(net, dir, [new CaffeInput("feature", [1, 4, 2, 3], new float[24]), new CaffeInput("data", [1, 3, 30, 32], new float[2880])], "prior");
        // min_size 10.7 is read as 10 (int min_size_ = min_sizes_[s]); ratios 1, 2, 1/2, 3, 1/3; 2 sizes x (1 + 1 + 4) priors.
        int[] mins = [6, 10], maxs = [9, 14];
        float[] ratios = [2f, 0.5f, 3f, 1f / 3];
        var expected = new List<float>();
        for (int h = 0; h < 2; h++)
            for (int w = 0; w < 3; w++)
            {
                float cx = (w + 0.5f) * (24f / 3), cy = (h + 0.5f) * (40f / 2);
                for (int s = 0; s < 2; s++)
                {
                    var boxes = new List<(double W, double H)> { (mins[s], mins[s]), (Math.Sqrt(mins[s] * maxs[s]), Math.Sqrt(mins[s] * maxs[s])) };
                    boxes.AddRange(ratios.Select(ar => (mins[s] * Math.Sqrt(ar), mins[s] / Math.Sqrt(ar))));
                    foreach (var (bw, bh) in boxes)
                        expected.AddRange(new[] { (cx - bw / 2) / 24, (cy - bh / 2) / 40, (cx + bw / 2) / 24, (cy + bh / 2) / 40 }.Select(v => (float)Math.Clamp(v, 0, 1)));
                }
            }
        int dim = expected.Count;
        Assert.Equal(2 * 3 * 12 * 4, dim);
        Assert.Equal([1, 2, dim], y.Shape);
        for (int i = 0; i < dim; i++) Assert.Equal(expected[i], y.Values[i], 1e-6f);
        for (int i = 0; i < dim; i++) Assert.Equal(0.1f, y.Values[dim + i]);
    }

    private static OpenCvOutput Lowered(CaffeTestNet net, TempDir dir, IReadOnlyList<CaffeInput> inputs, string output)
    {
        var onnx = dir.File(Path.GetFileNameWithoutExtension(net.Prototxt) + ".onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "-o", onnx]);
        Assert.True(exit == 0, stderr);
        return CaffeReferee.RunOrt(onnx, inputs, [output]).Single();
    }

    private static string Bool(bool b) => b ? "true" : "false";

    /// <summary>
    /// A shared scale as SSD's caffemodels hold it: the legacy 1x1x1x1 form, which Caffe matches to the layer's 0-d blob
    /// (OpenCV cannot read a BlobShape with no dims).
    /// </summary>
    private static BlobProto LegacyScalar(float value)
    {
        var blob = new BlobProto { Num = 1, Channels = 1, Height = 1, Width = 1 };
        blob.Data.Add(value);
        return blob;
    }
}
