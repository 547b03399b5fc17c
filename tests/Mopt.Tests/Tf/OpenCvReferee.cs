using System.Runtime.InteropServices;
using OpenCvSharp;
using OpenCvSharp.Dnn;

namespace Mopt.Tests.Tf;

/// <summary>
/// OpenCV's dnn module as an independent referee for TensorFlow frozen graphs: it has its own importer
/// (<c>CvDnn.ReadNetFromTensorflow</c>) and its own kernels, and shares no code with mopt or ONNX Runtime.
/// No xUnit here: the TF benchmark (bench/TfBench) links this file too.
/// </summary>
/// <remarks>
/// Layout: OpenCV's TF importer takes a 4-D input as an NCHW blob even when the graph is NHWC (it tracks the layout and
/// transposes weights and Reshapes itself), and gives 4-D outputs back NCHW; 2-D tensors go in and out as they are.
/// </remarks>
public static class OpenCvReferee
{
    /// <summary>Runs the graph at <paramref name="pbPath"/> on one input and returns the named outputs (OpenCV layer names).</summary>
    /// <param name="blobShape">the shape of the blob OpenCV is given: NCHW for a 4-D NHWC placeholder (see <see cref="NhwcToNchw"/>)</param>
    public static IReadOnlyList<OpenCvOutput> Run(string pbPath, string input, int[] blobShape, float[] values, IReadOnlyList<string> outputs)
    {
        using var net = Read(pbPath);
        return Forward(net, input, blobShape, values, outputs);
    }

    /// <summary>Reads a frozen GraphDef into an OpenCV net (throws <see cref="OpenCVException"/> when OpenCV cannot import it).</summary>
    public static Net Read(string pbPath)
    {
        var net = CvDnn.ReadNetFromTensorflow(pbPath) ?? throw new InvalidOperationException($"OpenCV returned no net for '{pbPath}'");
        if (net.Empty()) { net.Dispose(); throw new InvalidOperationException($"OpenCV read an empty net from '{pbPath}'"); }
        return net;
    }

    /// <summary>Sets one input of <paramref name="net"/> and runs it to the named outputs.</summary>
    public static IReadOnlyList<OpenCvOutput> Forward(Net net, string input, int[] blobShape, float[] values, IReadOnlyList<string> outputs) =>
        Forward(net, [(input, blobShape, values)], outputs);

    /// <summary>Sets each input of <paramref name="net"/> (a blob of its shape) and runs it to the named outputs.</summary>
    public static IReadOnlyList<OpenCvOutput> Forward(Net net, IReadOnlyList<(string Name, int[] Shape, float[] Values)> inputs, IReadOnlyList<string> outputs)
    {
        var blobs = new List<Mat>();
        var mats = outputs.Select(_ => new Mat()).ToArray();
        try
        {
            foreach (var (name, shape, values) in inputs)
            {
                long count = shape.Aggregate(1L, (a, d) => a * d);
                if (count != values.Length) throw new ArgumentException($"a blob of shape [{string.Join(",", shape)}] holds {count} values, not {values.Length}", nameof(inputs));
                var blob = new Mat(shape, MatType.CV_32FC1);
                blobs.Add(blob);
                Marshal.Copy(values, 0, blob.Data, values.Length);
                net.SetInput(blob, name);
            }
            net.Forward(mats, outputs);
            return outputs.Select((name, k) => ToOutput(name, mats[k])).ToList();
        }
        finally
        {
            foreach (var m in mats) m.Dispose();
            foreach (var b in blobs) b.Dispose();
        }
    }

    private static OpenCvOutput ToOutput(string name, Mat m)
    {
        if (m.Type() != MatType.CV_32FC1) throw new InvalidOperationException($"OpenCV output '{name}' is {m.Type()}, not float");
        var shape = Enumerable.Range(0, m.Dims).Select(m.Size).ToArray();
        var values = new float[m.Total()];
        // Forward's outputs are continuous blobs, so one copy reads them whole.
        Marshal.Copy(m.Data, values, 0, values.Length);
        return new OpenCvOutput(name, shape, values);
    }

    /// <summary>An NHWC tensor's values in NCHW order (the order OpenCV wants for a 4-D input).</summary>
    public static float[] NhwcToNchw(float[] values, IReadOnlyList<int> nhwc)
    {
        int n = nhwc[0], h = nhwc[1], w = nhwc[2], c = nhwc[3];
        var result = new float[values.Length];
        for (int b = 0; b < n; b++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int k = 0; k < c; k++)
                        result[((b * c + k) * h + y) * w + x] = values[((b * h + y) * w + x) * c + k];
        return result;
    }

    /// <summary>The NCHW shape of an NHWC one.</summary>
    public static int[] NchwShape(IReadOnlyList<int> nhwc) => [nhwc[0], nhwc[3], nhwc[1], nhwc[2]];

    /// <summary>
    /// Normwise relative difference: max_i |a_i - r_i| / max_i |r_i| (0 when equal). Per-element |a-r|/|r| is
    /// meaningless for a softmax whose small entries are 1e-17 (float noise there gives huge ratios while the answer
    /// is the same); dividing by the reference's largest magnitude measures error against the scale of the output,
    /// as mopt-opt's --verify-against does. NaN against non-NaN, or a length mismatch, is infinity.
    /// </summary>
    public static double MaxRelativeDifference(ReadOnlySpan<float> actual, ReadOnlySpan<float> reference)
    {
        if (actual.Length != reference.Length) return double.PositiveInfinity;
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs((double)actual[i] - reference[i]);
            if (double.IsNaN(d)) d = float.IsNaN(actual[i]) && float.IsNaN(reference[i]) ? 0 : double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, d);
            maxRef = Math.Max(maxRef, Math.Abs((double)reference[i]));
        }
        return maxDiff == 0 ? 0 : maxDiff / Math.Max(maxRef, 1e-30);
    }
}
