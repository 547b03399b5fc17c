using Mopt.Caffe.Proto;

namespace Mopt.Tests.Caffe;

/// <summary>The referee itself: OpenCV reads a net written by <see cref="CaffeTestNet"/> and computes what Caffe would.</summary>
public sealed class CaffeRefereeTests
{
    /// <summary>A 1x1 Convolution with weights [1, 10] and bias 0.5 over two channels: y = x0 + 10 x1 + 0.5, per pixel.</summary>
    [Fact]
    public void OpenCvRunsATestNetFromItsPrototxtAndCaffeModel()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "conv", """
            name: "conv"
            input: "data"
            input_shape { dim: 1 dim: 2 dim: 2 dim: 3 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 1 kernel_size: 1 } }
            """, new Dictionary<string, BlobProto[]>
            {
                ["conv"] = [CaffeTestNet.Blob([1f, 10f], 1, 2, 1, 1), CaffeTestNet.Blob([0.5f], 1)],
            });
        var x = CaffeTestNet.Values(seed: 7, count: 12);
        var y = CaffeReferee.RunOpenCv(net.Prototxt, net.CaffeModel, [new CaffeInput("data", [1, 2, 2, 3], x)], ["conv"]).Single();
        Assert.Equal([1, 1, 2, 3], y.Shape);
        for (int p = 0; p < 6; p++) Assert.Equal(x[p] + 10 * x[6 + p] + 0.5f, y.Values[p], 1e-5f);
    }

    [Fact]
    public void ABlobMustHoldAsManyValuesAsItsShapeSays() =>
        Assert.Throws<ArgumentException>(() => CaffeTestNet.Blob([1f, 2f, 3f], 2, 2));
}
