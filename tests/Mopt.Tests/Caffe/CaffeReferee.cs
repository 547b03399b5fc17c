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
/// go in and come out as they are. No xUnit in this file: the Caffe benchmark (bench/CaffeBench) links it too; the
/// assertions are in CaffeReferee.Asserts.cs.
/// </summary>
public static partial class CaffeReferee
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
        return OpenCvReferee.Forward(net, [.. inputs.Select(i => (i.Name, i.Shape, i.Values))], outputs);
    }

    /// <summary>
    /// OpenCV's names for <paramref name="tops"/> of the net in <paramref name="prototxt"/>: OpenCV names a layer's output
    /// after the layer, so a top that in-place layers rewrite is the last such layer's (landmark106's top bn6_3 is the
    /// Scale bn6_3_scale's output; after --caffe-merge-bn, the InnerProduct's).
    /// </summary>
    public static IReadOnlyList<string> OpenCvLayersFor(string prototxt, IReadOnlyList<string> tops)
    {
        var net = Mopt.Protobuf.ProtoText.Parse<Mopt.Caffe.Proto.NetParameter>(File.ReadAllText(prototxt), prototxt);
        return tops.Select(top => net.Layer.LastOrDefault(l => l.Top.Contains(top))?.Name ?? top).ToList();
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
            if (r.Element != ElementType.F32) throw new InvalidOperationException($"ONNX Runtime output '{name}' is {r.Element}, not f32");
            return new OpenCvOutput(name, [.. r.Shape.Select(d => (int)d)], MemoryMarshal.Cast<byte, float>(r.Data).ToArray());
        }).ToList();
    }

    /// <summary>The largest normwise relative difference over the outputs; infinity when a shape differs.</summary>
    public static double MaxDifference(IReadOnlyList<OpenCvOutput> actual, IReadOnlyList<OpenCvOutput> reference)
    {
        if (actual.Count != reference.Count) return double.PositiveInfinity;
        double worst = 0;
        for (int k = 0; k < reference.Count; k++)
            worst = Math.Max(worst, reference[k].Shape.SequenceEqual(actual[k].Shape)
                ? OpenCvReferee.MaxRelativeDifference(actual[k].Values, reference[k].Values) : double.PositiveInfinity);
        return worst;
    }
}
