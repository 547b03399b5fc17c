using Mopt.Caffe.Proto;
using Mopt.Tests.Tf;

namespace Mopt.Tests.Caffe;

/// <summary>
/// A one-layer-family Caffe net for the lowering tests: inputs <c>a</c>, <c>b</c>, <c>c</c> (as many as shapes given)
/// declared by <c>input:</c> + <c>input_shape</c>, then the test's layers; lowered by mopt-opt and compared with OpenCV,
/// or (where OpenCV lacks the layer or option) with values the test computes from Caffe's formula.
/// </summary>
public static class CaffeLoweringCheck
{
    public static readonly string[] InputNames = ["a", "b", "c"];

    /// <summary>The net's prototxt: the inputs of <paramref name="shapes"/> then <paramref name="layers"/>.</summary>
    public static string Prototxt(string layers, params int[][] shapes) =>
        "name: \"t\"\n" + string.Concat(shapes.Select((s, i) =>
            $"input: \"{InputNames[i]}\"\ninput_shape {{ {string.Concat(s.Select(d => $"dim: {d} "))}}}\n")) + layers;

    /// <summary>Inputs of <paramref name="shapes"/> with seeded values in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static IReadOnlyList<CaffeInput> Inputs(float low, float high, params int[][] shapes) =>
        shapes.Select((s, i) => new CaffeInput(InputNames[i], s, CaffeTestNet.Values(11 + i, s.Aggregate(1, (x, d) => x * d), low, high))).ToList();

    /// <summary>Lowers the net and asserts ONNX Runtime's outputs are OpenCV's on inputs in [low, high).</summary>
    public static void MatchesOpenCv(string layers, string[] outputs, int[][] shapes, IReadOnlyDictionary<string, BlobProto[]>? blobs = null, float low = -2, float high = 2)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "t", Prototxt(layers, shapes), blobs);
        CaffeReferee.AssertLoweredMatchesOpenCv(net, dir, Inputs(low, high, shapes), outputs);
    }

    /// <summary>Lowers the net and runs it in ONNX Runtime: the named outputs, for the test to compare with Caffe's formula.</summary>
    public static IReadOnlyList<OpenCvOutput> RunLowered(string layers, string[] outputs, IReadOnlyList<CaffeInput> inputs, IReadOnlyDictionary<string, BlobProto[]>? blobs = null)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "t", Prototxt(layers, [.. inputs.Select(i => i.Shape)]), blobs);
        var onnx = dir.File("t.onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "-o", onnx]);
        Assert.True(exit == 0, $"mopt-opt {net.Prototxt} -o {onnx}: {stderr}");
        return CaffeReferee.RunOrt(onnx, inputs, outputs);
    }

    /// <summary>Asserts <paramref name="actual"/> has <paramref name="shape"/> and <paramref name="expected"/>'s values within the referee's tolerance.</summary>
    public static void AssertValues(OpenCvOutput actual, int[] shape, float[] expected) =>
        CaffeReferee.AssertSame([actual], [new OpenCvOutput(actual.Name, shape, expected)], "ONNX Runtime against Caffe's formula");

    /// <summary>The stderr of lowering a net mopt cannot lower faithfully (asserting exit 1 and no file written).</summary>
    public static string LoweringError(string layers, params int[][] shapes)
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "t", Prototxt(layers, shapes));
        var onnx = dir.File("t.onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "-o", onnx]);
        Assert.Equal(1, exit);
        Assert.False(File.Exists(onnx), "a net that cannot be lowered must write nothing");
        return stderr;
    }
}
