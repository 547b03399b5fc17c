using System.Runtime.InteropServices;
using Mopt.Backend.Runtime;
using Mopt.Ir;
using Mopt.Tests.Tf;
using OpenCvSharp;
using OpenCvSharp.Dnn;

namespace Mopt.Tests.Caffe;

/// <summary>One input of a Caffe net: its name (the <c>input:</c> or Input layer's top), NCHW shape and values.</summary>
public sealed record CaffeInput(string Name, int[] Shape, float[] Values);

/// <summary>
/// OpenCV's dnn module as the independent referee for Caffe nets (issue 13 item 5): <c>CvDnn.ReadNetFromCaffe</c> has
/// its own prototxt/caffemodel reader and kernels and shares no code with mopt or ONNX Runtime. Caffe is NCHW, so blobs
/// go in and come out as they are.
/// </summary>
public static class CaffeReferee
{
    /// <summary>The lowered model (and a merged net written back) must give OpenCV's outputs to this normwise relative difference.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Reads a net into OpenCV (throws <see cref="OpenCVException"/> when OpenCV cannot import it).</summary>
    public static Net Read(string prototxt, string? caffeModel)
    {
        var net = CvDnn.ReadNetFromCaffe(prototxt, caffeModel) ?? throw new InvalidOperationException($"OpenCV returned no net for '{prototxt}'");
        if (net.Empty()) { net.Dispose(); throw new InvalidOperationException($"OpenCV read an empty net from '{prototxt}'"); }
        return net;
    }

    /// <summary>Runs the net in OpenCV on <paramref name="inputs"/> and returns the named outputs (OpenCV names a layer's output by the layer's name).</summary>
    public static IReadOnlyList<OpenCvOutput> RunOpenCv(string prototxt, string? caffeModel, IReadOnlyList<CaffeInput> inputs, IReadOnlyList<string> outputs)
    {
        using var net = Read(prototxt, caffeModel);
        var blobs = new List<Mat>();
        try
        {
            foreach (var input in inputs)
            {
                var blob = new Mat(input.Shape, MatType.CV_32FC1);
                blobs.Add(blob);
                Marshal.Copy(input.Values, 0, blob.Data, input.Values.Length);
                net.SetInput(blob, input.Name);
            }
            var mats = outputs.Select(_ => new Mat()).ToArray();
            try
            {
                net.Forward(mats, outputs);
                return outputs.Select((name, k) => ToOutput(name, mats[k])).ToList();
            }
            finally
            {
                foreach (var m in mats) m.Dispose();
            }
        }
        finally
        {
            foreach (var b in blobs) b.Dispose();
        }
    }

    /// <summary>Runs an ONNX model in ONNX Runtime on <paramref name="inputs"/> (fed by name) and returns the named outputs.</summary>
    public static IReadOnlyList<OpenCvOutput> RunOrt(string onnx, IReadOnlyList<CaffeInput> inputs, IReadOnlyList<string> outputs)
    {
        using var ort = new OrtRunner(onnx);
        var feed = inputs.ToDictionary(i => i.Name,
            i => new NpyArray(ElementType.F32, [.. i.Shape.Select(d => (long)d)], MemoryMarshal.AsBytes(i.Values.AsSpan()).ToArray()));
        var results = ort.Run(feed, outputs);
        return outputs.Select(name =>
        {
            var r = results[name];
            Assert.Equal(ElementType.F32, r.Element);
            return new OpenCvOutput(name, [.. r.Shape.Select(d => (int)d)], MemoryMarshal.Cast<byte, float>(r.Data).ToArray());
        }).ToList();
    }

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

    private static OpenCvOutput ToOutput(string name, Mat m)
    {
        if (m.Type() != MatType.CV_32FC1) throw new InvalidOperationException($"OpenCV output '{name}' is {m.Type()}, not float");
        var shape = Enumerable.Range(0, m.Dims).Select(m.Size).ToArray();
        var values = new float[m.Total()];
        Marshal.Copy(m.Data, values, 0, values.Length);
        return new OpenCvOutput(name, shape, values);
    }
}
