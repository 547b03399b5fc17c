using Mopt.Tests.Tf;

namespace Mopt.Tests.Caffe;

/// <summary>The referee's assertions (xUnit), apart from what the benchmark links.</summary>
public static partial class CaffeReferee
{
    /// <summary>
    /// Lowers the net with <c>mopt-opt net.prototxt [extra args] -o net.onnx</c>, runs that in ONNX Runtime and the
    /// original in OpenCV on the same inputs, and asserts every output agrees in shape and within <see cref="Tolerance"/>.
    /// Returns the largest difference seen.
    /// </summary>
    public static double AssertLoweredMatchesOpenCv(CaffeTestNet net, TempDir dir, IReadOnlyList<CaffeInput> inputs, IReadOnlyList<string> outputs, params string[] extraArgs)
    {
        var onnx = dir.File(Path.GetFileNameWithoutExtension(net.Prototxt) + ".onnx");
        var (exit, _, stderr) = Mir.Opt([net.Prototxt, "--caffe-weights=" + net.CaffeModel, .. extraArgs, "-o", onnx]);
        Assert.True(exit == 0, $"mopt-opt {net.Prototxt} -o {onnx}: {stderr}");
        var reference = RunOpenCv(net.Prototxt, net.CaffeModel, inputs, outputs);
        return AssertSame(RunOrt(onnx, inputs, outputs), reference, "ONNX Runtime on the lowered model");
    }

    /// <summary>Asserts each actual output has the reference's shape and is within <see cref="Tolerance"/>; returns the largest difference.</summary>
    public static double AssertSame(IReadOnlyList<OpenCvOutput> actual, IReadOnlyList<OpenCvOutput> reference, string what)
    {
        double worst = 0;
        Assert.Equal(reference.Count, actual.Count);
        for (int k = 0; k < reference.Count; k++)
        {
            Assert.True(reference[k].Shape.SequenceEqual(actual[k].Shape),
                $"{what}: output '{reference[k].Name}' has shape [{string.Join(",", actual[k].Shape)}], OpenCV gives [{string.Join(",", reference[k].Shape)}]");
            double d = OpenCvReferee.MaxRelativeDifference(actual[k].Values, reference[k].Values);
            Assert.True(d <= Tolerance, $"{what}: output '{reference[k].Name}' differs from OpenCV's by {d:G3} (max relative) > {Tolerance:G1}");
            worst = Math.Max(worst, d);
        }
        return worst;
    }
}
