using System.Runtime.InteropServices;
using Mopt.Caffe.Proto;
using Mopt.Tests.Tf;
using OpenCvSharp;

namespace Mopt.Tests.Caffe;

/// <summary>
/// <c>--caffe-merge-bn</c> (passes/Caffe/MergeBatchNorm.cs), numerically (issue 13 item 5): the merged net written back
/// as prototxt + caffemodel, run in OpenCV, gives OpenCV's outputs on the original within
/// <see cref="CaffeReferee.Tolerance"/>; synthetic nets for each layer kind, and the real nets' every BatchNorm + Scale.
/// </summary>
public sealed class CaffeMergeBnTests
{
    private static string Models => Path.Combine(TestPaths.SharedModels, "caffe");

    private static BlobProto R(int seed, float low, float high, params long[] dims) => CaffeTestNet.Random(seed, low, high, dims);

    /// <summary>BatchNorm's three blobs for <paramref name="c"/> channels: mean, variance (positive), scale factor.</summary>
    private static BlobProto[] Bn(int seed, int c, float factor = 2f) =>
        [R(seed, -1, 1, c), R(seed + 1, 0.2f, 2, c), CaffeTestNet.Blob([factor], 1)];

    private static BlobProto[] Scale(int seed, int c, bool bias = true) =>
        bias ? [R(seed, 0.5f, 1.5f, c), R(seed + 1, -1, 1, c)] : [R(seed, 0.5f, 1.5f, c)];

    /// <summary>
    /// Merges with <c>--caffe-merge-bn</c>, writes back, and compares OpenCV on both; returns the merged net's layer types
    /// and mopt-opt's statistics.
    /// </summary>
    private static (List<string> Types, string Stats) MergeAndCompare(TempDir dir, CaffeTestNet net)
    {
        var written = dir.File("merged.prototxt");
        var (exit, _, stderr) = Mir.Opt(net.Prototxt, "--caffe-weights=" + net.CaffeModel, "--caffe-merge-bn", "--pass-statistics", "-o", written);
        Assert.True(exit == 0, stderr);
        var original = CaffeWriterTests.Import(net.Prototxt, net.CaffeModel);
        var merged = CaffeWriterTests.Import(written);
        var inputs = CaffeWriterTests.Inputs(original);
        var reference = RunLayerByLayer(net.Prototxt, net.CaffeModel, inputs, CaffeWriterTests.OutputLayers(original));
        var actual = CaffeReferee.RunOpenCv(written, dir.File("merged.caffemodel"), inputs, CaffeWriterTests.OutputLayers(merged));
        CaffeReferee.AssertSame(actual, reference, "OpenCV on the merged net written back");
        return (CaffeWriterTests.LayerTypes(merged), stderr);
    }

    /// <summary>
    /// OpenCV on the original net with its own fusions off, so each layer runs as Caffe runs it: OpenCV's fusion of a
    /// BatchNorm into a Deconvolution with groups scales the wrong weights (it gives 0.7 relative error here).
    /// </summary>
    private static IReadOnlyList<OpenCvOutput> RunLayerByLayer(string prototxt, string caffeModel, IReadOnlyList<CaffeInput> inputs, IReadOnlyList<string> outputs)
    {
        using var net = CaffeReferee.Read(prototxt, caffeModel);
        net.EnableFusion(false);
        var blobs = inputs.Select(input =>
        {
            var blob = new Mat(input.Shape, MatType.CV_32FC1);
            Marshal.Copy(input.Values, 0, blob.Data, input.Values.Length);
            net.SetInput(blob, input.Name);
            return blob;
        }).ToList();
        var mats = outputs.Select(_ => new Mat()).ToArray();
        try
        {
            net.Forward(mats, outputs);
            return outputs.Select((name, k) =>
            {
                var values = new float[mats[k].Total()];
                Marshal.Copy(mats[k].Data, values, 0, values.Length);
                return new OpenCvOutput(name, Enumerable.Range(0, mats[k].Dims).Select(mats[k].Size).ToArray(), values);
            }).ToList();
        }
        finally
        {
            foreach (var m in mats.Concat(blobs)) m.Dispose();
        }
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 4)]
    [InlineData(false, 2)]
    public void ConvolutionBatchNormScaleMerge(bool bias, int group)
    {
        using var dir = new TempDir();
        var conv = $"convolution_param {{ num_output: 4 kernel_size: 3 pad: 1 group: {group} bias_term: {(bias ? "true" : "false")} }}";
        var net = CaffeTestNet.Write(dir, "conv", $$"""
            input: "data"
            input_shape { dim: 1 dim: 4 dim: 5 dim: 5 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" {{conv}} }
            layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" batch_norm_param { use_global_stats: true eps: 0.001 } }
            layer { name: "scale" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
            layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
            """, new Dictionary<string, BlobProto[]>
            {
                ["conv"] = bias ? [R(1, -1, 1, 4, 4 / group, 3, 3), R(2, -1, 1, 4)] : [R(1, -1, 1, 4, 4 / group, 3, 3)],
                ["bn"] = Bn(3, 4), ["scale"] = Scale(5, 4),
            });
        var (types, stats) = MergeAndCompare(dir, net);
        Assert.Equal(["Convolution", "ReLU"], types);
        Assert.Contains("1 pairs merged", stats);
    }

    /// <summary>A BatchNorm alone (not in place, scale factor 0: Caffe's statistics are then zero), and no Scale.</summary>
    [Fact]
    public void ConvolutionBatchNormAloneMerges()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "bn", """
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 4 dim: 4 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 1 } }
            layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "bn" batch_norm_param { eps: 0.01 } }
            layer { name: "conv2" type: "Convolution" bottom: "bn" top: "conv2" convolution_param { num_output: 2 kernel_size: 1 } }
            layer { name: "bn2" type: "BatchNorm" bottom: "conv2" top: "conv2" }
            """, new Dictionary<string, BlobProto[]>
            {
                ["conv"] = [R(1, -1, 1, 2, 3, 1, 1), R(2, -1, 1, 2)], ["bn"] = Bn(3, 2, factor: 0),
                ["conv2"] = [R(4, -1, 1, 2, 2, 1, 1), R(5, -1, 1, 2)], ["bn2"] = Bn(6, 2),
            });
        var (types, stats) = MergeAndCompare(dir, net);
        Assert.Equal(["Convolution", "Convolution"], types);
        Assert.Contains("2 pairs merged", stats);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DeconvolutionBatchNormScaleMerge(int group)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "deconv", $$"""
            input: "data"
            input_shape { dim: 1 dim: 4 dim: 3 dim: 3 }
            layer { name: "up" type: "Deconvolution" bottom: "data" top: "up" convolution_param { num_output: 6 kernel_size: 2 stride: 2 group: {{group}} } }
            layer { name: "bn" type: "BatchNorm" bottom: "up" top: "up" }
            layer { name: "scale" type: "Scale" bottom: "up" top: "up" scale_param { bias_term: true } }
            """, new Dictionary<string, BlobProto[]>
            {
                ["up"] = [R(1, -1, 1, 4, 6 / group, 2, 2), R(2, -1, 1, 6)], ["bn"] = Bn(3, 6), ["scale"] = Scale(5, 6),
            });
        var (types, _) = MergeAndCompare(dir, net);
        Assert.Equal(["Deconvolution"], types);
    }

    [Fact]
    public void InnerProductBatchNormScaleMerge()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "ip", """
            input: "data"
            input_shape { dim: 2 dim: 6 }
            layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 5 } }
            layer { name: "bn" type: "BatchNorm" bottom: "fc" top: "fc_bn" }
            layer { name: "scale" type: "Scale" bottom: "fc_bn" top: "fc_bn" scale_param { bias_term: false } }
            """, new Dictionary<string, BlobProto[]>
            {
                ["fc"] = [R(1, -1, 1, 5, 6), R(2, -1, 1, 5)], ["bn"] = Bn(3, 5), ["scale"] = Scale(5, 5, bias: false),
            });
        var (types, _) = MergeAndCompare(dir, net);
        Assert.Equal(["InnerProduct"], types);
    }

    /// <summary>The Convolution's top also read by another layer: merging would change what that layer sees.</summary>
    [Fact]
    public void ALayerWithAnotherReaderIsSkipped()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "shared", """
            input: "data"
            input_shape { dim: 1 dim: 2 dim: 3 dim: 3 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 1 } }
            layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "bn" }
            layer { name: "scale" type: "Scale" bottom: "bn" top: "bn" scale_param { bias_term: true } }
            layer { name: "tanh" type: "TanH" bottom: "conv" top: "tanh" }
            """, new Dictionary<string, BlobProto[]>
            {
                ["conv"] = [R(1, -1, 1, 2, 2, 1, 1), R(2, -1, 1, 2)], ["bn"] = Bn(3, 2), ["scale"] = Scale(5, 2),
            });
        var (types, stats) = MergeAndCompare(dir, net);
        Assert.Equal(["Convolution", "BatchNorm", "Scale", "TanH"], types);
        Assert.Contains("0 pairs merged", stats);
        Assert.Contains("also read by TanH 'tanh'", stats);
    }

    /// <summary>A BatchNorm read by a Scale and another layer merges alone; the Scale stays, reading the Convolution.</summary>
    [Fact]
    public void ABatchNormWithTwoReadersMergesWithoutItsScale()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "two", """
            input: "data"
            input_shape { dim: 1 dim: 2 dim: 3 dim: 3 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 1 } }
            layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "bn" }
            layer { name: "scale" type: "Scale" bottom: "bn" top: "scale" scale_param { bias_term: true } }
            layer { name: "tanh" type: "TanH" bottom: "bn" top: "tanh" }
            """, new Dictionary<string, BlobProto[]>
            {
                ["conv"] = [R(1, -1, 1, 2, 2, 1, 1), R(2, -1, 1, 2)], ["bn"] = Bn(3, 2), ["scale"] = Scale(5, 2),
            });
        var (types, stats) = MergeAndCompare(dir, net);
        Assert.Equal(["Convolution", "Scale", "TanH"], types);
        Assert.Contains("1 pairs merged", stats);
    }

    [Fact]
    public void UseGlobalStatsFalseIsSkipped()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "train", """
            input: "data"
            input_shape { dim: 1 dim: 2 dim: 3 dim: 3 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 1 } }
            layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" batch_norm_param { use_global_stats: false } }
            """, new Dictionary<string, BlobProto[]> { ["conv"] = [R(1, -1, 1, 2, 2, 1, 1), R(2, -1, 1, 2)], ["bn"] = Bn(3, 2) });
        var (exit, _, stderr) = Mir.Opt(net.Prototxt, "--caffe-merge-bn", "--pass-statistics", "-o", dir.File("out.mir"));
        Assert.True(exit == 0, stderr);
        Assert.Contains("use_global_stats is false", stderr);
        Assert.Contains("caffe.BatchNorm", File.ReadAllText(dir.File("out.mir")));
    }

    [SharedModelsTheory]
    [InlineData("yoloface_50k/yoloface-50k.prototxt", 23)]
    [InlineData("landmark106/landmark106.prototxt", 38)]
    public void RealNetsMergeEveryPairAndMatchTheOriginalInOpenCv(string prototxt, int pairs)
    {
        using var dir = new TempDir();
        var source = Path.Combine(Models, prototxt);
        var net = new CaffeTestNet(source, Path.ChangeExtension(source, ".caffemodel"));
        var (types, stats) = MergeAndCompare(dir, net);
        Assert.Contains($"{pairs} pairs merged, {pairs} Scales merged", stats);
        Assert.DoesNotContain("BatchNorm", types);
        Assert.DoesNotContain("Scale", types);
        Assert.DoesNotContain("BatchNorm", File.ReadAllText(dir.File("merged.prototxt")));
    }
}
