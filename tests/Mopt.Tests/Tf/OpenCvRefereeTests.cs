using System.Runtime.InteropServices;
using Google.Protobuf;
using Mopt.Backend.Runtime;
using Mopt.Ir;
using Mopt.Tf.Proto;
using OpenCvSharp;

namespace Mopt.Tests.Tf;

/// <summary>
/// OpenCV's dnn module as the referee for TensorFlow graphs (issue 12 item 7): its answer on MNIST's sample, the layout
/// it takes, that it reads the .pb files mopt writes with the original's outputs, and (once convert-tf-to-onnx lands)
/// that the lowered ONNX in ONNX Runtime gives OpenCV's outputs.
/// </summary>
public sealed class OpenCvRefereeTests
{

    /// <summary>The lowered model must give OpenCV's outputs to this normwise relative difference (see <see cref="OpenCvReferee.MaxRelativeDifference"/>).</summary>
    private const double Tolerance = 1e-4;

    private static string TfModels => Path.Combine(TestPaths.SharedModels, "tf");

    public static TheoryData<string> AllGraphs() => new(OpenCvTfGraphs.All.Select(g => g.Name));

    public static TheoryData<string> GraphsOpenCvReadsAsIs() => new(OpenCvTfGraphs.All.Where(g => g.OpenCvReadsOriginal).Select(g => g.Name));

    public static TheoryData<string> CutGraphs() => new(OpenCvTfGraphs.All.Where(g => g.CutAt.Count > 0).Select(g => g.Name));

    private static OpenCvOutput RunInOpenCv(OpenCvTfGraph g, string file) =>
        OpenCvReferee.Run(file, g.Input, g.OpenCvBlobShape, g.ToOpenCvBlob(OpenCvTfGraphs.InputValues(g, TfModels)), [g.OpenCvLayer]).Single();

    private static void Opt(params string[] args)
    {
        var (exit, _, stderr) = Mir.Opt(args);
        Assert.True(exit == 0, $"mopt-opt {string.Join(" ", args)}: {stderr}");
    }

    /// <summary>mopt-opt's pb → mir → pb (the cut, if the graph has one, made on the way in).</summary>
    private static string ThroughMir(OpenCvTfGraph g, string from, TempDir dir, string stem)
    {
        var mir = dir.File(stem + ".mir");
        var pb = dir.File(stem + ".pb");
        Opt([from, .. g.MoptCutArgs, "-o", mir]);
        Opt([mir, "-o", pb]);
        return pb;
    }

    [SharedModelsFact]
    public void OpenCvAnswersNineOnMnistSample()
    {
        var g = OpenCvTfGraphs.Named("mnist");
        var probabilities = RunInOpenCv(g, Path.Combine(TfModels, g.File));
        Assert.Equal([1, 10], probabilities.Shape);
        Assert.Equal(9, Array.IndexOf(probabilities.Values, probabilities.Values.Max()));
        Assert.InRange(probabilities.Values[9], 0.9f, 1f);
        Assert.InRange(probabilities.Values.Sum(), 1 - 1e-5f, 1 + 1e-5f);
    }

    /// <summary>
    /// A 4-D NHWC Placeholder is fed to OpenCV as an NCHW blob, and a 4-D output comes back NCHW: a 1x1 Conv2D
    /// y = x[..., 0] + 10 x[..., 1] over a 2x3 image tells the orders apart (H ≠ W, and each pixel differs).
    /// </summary>
    [Fact]
    public void OpenCvTakesNchwBlobsForNhwcGraphs()
    {
        using var dir = new TempDir();
        var pb = dir.File("conv.pb");
        File.WriteAllBytes(pb, OneByOneConv().ToByteArray());
        int[] nhwc = [1, 2, 3, 2];
        var x = Enumerable.Range(0, 12).Select(i => (float)(i * i % 7) - 3).ToArray();
        var expected = new float[6];
        for (int p = 0; p < 6; p++) expected[p] = x[2 * p] + 10 * x[2 * p + 1];

        var y = OpenCvReferee.Run(pb, "x", OpenCvReferee.NchwShape(nhwc), OpenCvReferee.NhwcToNchw(x, nhwc), ["y"]).Single();
        Assert.Equal([1, 1, 2, 3], y.Shape);
        Assert.Equal(expected, y.Values);
    }

    private static GraphDef OneByOneConv()
    {
        static TensorShapeProto Shape(params long[] dims)
        {
            var s = new TensorShapeProto();
            s.Dim.AddRange(dims.Select(d => new TensorShapeProto.Types.Dim { Size = d }));
            return s;
        }
        var g = new GraphDef();
        var x = new NodeDef { Name = "x", Op = "Placeholder" };
        x.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        x.Attr["shape"] = new AttrValue { Shape = Shape(1, 2, 3, 2) };
        var w = new NodeDef { Name = "w", Op = "Const" };
        w.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        w.Attr["value"] = new AttrValue
        {
            Tensor = new TensorProto
            {
                Dtype = DataType.DtFloat,
                TensorShape = Shape(1, 1, 2, 1), // HWIO
                TensorContent = ByteString.CopyFrom(MemoryMarshal.AsBytes<float>([1f, 10f])),
            },
        };
        var y = new NodeDef { Name = "y", Op = "Conv2D", Input = { "x", "w" } };
        y.Attr["T"] = new AttrValue { Type = DataType.DtFloat };
        y.Attr["strides"] = new AttrValue { List = new AttrValue.Types.ListValue { I = { 1, 1, 1, 1 } } };
        y.Attr["padding"] = new AttrValue { S = ByteString.CopyFromUtf8("VALID") };
        y.Attr["data_format"] = new AttrValue { S = ByteString.CopyFromUtf8("NHWC") };
        g.Node.AddRange([x, w, y]);
        return g;
    }

    /// <summary>The .pb mopt writes (through the .mir text) gives OpenCV exactly the original file's outputs.</summary>
    [SharedModelsTheory]
    [MemberData(nameof(GraphsOpenCvReadsAsIs))]
    public void MoptWrittenGraphGivesOpenCvTheOriginalsOutputs(string name)
    {
        var g = OpenCvTfGraphs.Named(name);
        using var dir = new TempDir();
        var original = Path.Combine(TfModels, g.File);
        var reference = RunInOpenCv(g, original);
        var copy = RunInOpenCv(g, ThroughMir(g, original, dir, "copy"));
        Assert.Equal(reference.Shape, copy.Shape);
        Assert.Equal(reference.Values, copy.Values);
    }

    /// <summary>
    /// OpenCV cannot import the CIFAR-10 graph as shipped (its Reshape reads 'Reshape/shape:0', which OpenCV's importer
    /// does not resolve); mopt writes that input 'Reshape/shape', and OpenCV reads and runs the copy, twice the same.
    /// </summary>
    [SharedModelsFact]
    public void OpenCvRunsMoptsCopyOfCifarGraph()
    {
        var g = OpenCvTfGraphs.Named("cifar10");
        var original = Path.Combine(TfModels, g.File);
        var refused = Assert.Throws<OpenCVException>(() => OpenCvReferee.Read(original).Dispose());
        Assert.Contains("Reshape/shape", refused.Message);

        using var dir = new TempDir();
        var first = ThroughMir(g, original, dir, "first");
        var logits = RunInOpenCv(g, first);
        Assert.Equal([1, 10], logits.Shape);
        Assert.All(logits.Values, v => Assert.True(float.IsFinite(v)));
        Assert.True(logits.Values.Max() - logits.Values.Min() > 0.1f, "the logits do not depend on the class");
        var again = RunInOpenCv(g, ThroughMir(g, first, dir, "second"));
        Assert.Equal(logits.Values, again.Values);
        Assert.Equal(logits.Values, RunInOpenCv(g, OpenCvTfGraphs.FileForOpenCv(g, TfModels, dir.Path)).Values);
    }

    /// <summary>
    /// The KWS graphs load in OpenCV whole, but start at a DT_STRING wav_data it cannot be fed; the graph mopt writes
    /// cut at Reshape_1 (--tf-inputs=Reshape_1 --tf-outputs=labels_softmax) runs: 12 probabilities, the same through
    /// the .mir text as straight from the library.
    /// </summary>
    [SharedModelsTheory]
    [MemberData(nameof(CutGraphs))]
    public void OpenCvRunsMoptsCutOfKwsGraph(string name)
    {
        var g = OpenCvTfGraphs.Named(name);
        var original = Path.Combine(TfModels, g.File);
        using (var whole = OpenCvReferee.Read(original))
            Assert.Contains(g.CutAt[0], whole.GetLayerNames()!);

        using var dir = new TempDir();
        var cut = dir.File("cut.pb");
        Opt([original, .. g.MoptCutArgs, "-o", cut]);
        var probabilities = RunInOpenCv(g, cut);
        Assert.Equal([1, 12], probabilities.Shape);
        Assert.All(probabilities.Values, p => Assert.InRange(p, 0f, 1f));
        Assert.InRange(probabilities.Values.Sum(), 1 - 1e-5f, 1 + 1e-5f);
        Assert.True(probabilities.Values.Max() < 0.999f, "a saturated softmax would hide differences");

        Assert.Equal(probabilities.Values, RunInOpenCv(g, ThroughMir(g, cut, dir, "again")).Values);
        Assert.Equal(probabilities.Values, RunInOpenCv(g, OpenCvTfGraphs.FileForOpenCv(g, TfModels, dir.Path)).Values);
    }

    [Fact]
    public void RelativeDifferenceIsNormwise()
    {
        // A softmax entry of 1e-17 that comes back 2e-17 adds no error at the output's scale (per element it would be 100%).
        Assert.Equal(0.25, OpenCvReferee.MaxRelativeDifference([0.75f, 2e-17f], [1f, 1e-17f]), 1e-12);
        Assert.Equal(0.5, OpenCvReferee.MaxRelativeDifference([0f, -1f], [0f, -2f]));
        Assert.Equal(0, OpenCvReferee.MaxRelativeDifference([1f, -2f], [1f, -2f]));
        Assert.Equal(double.PositiveInfinity, OpenCvReferee.MaxRelativeDifference([float.NaN], [1f]));
        Assert.Equal(double.PositiveInfinity, OpenCvReferee.MaxRelativeDifference([1f], [1f, 2f]));
    }

    /// <summary>
    /// The graph lowered by mopt-opt (--convert-tf-to-onnx) runs in ONNX Runtime on the same input and gives OpenCV's
    /// output within <see cref="Tolerance"/>. ONNX Runtime is fed TensorFlow's layout (NHWC graphs keep it at their edges).
    /// </summary>
    [SharedModelsTheory]
    [MemberData(nameof(AllGraphs))]
    public void LoweredOnnxMatchesOpenCv(string name)
    {
        var g = OpenCvTfGraphs.Named(name);
        using var dir = new TempDir();
        var onnx = dir.File(name + ".onnx");
        var original = Path.Combine(TfModels, g.File);
        string[] shape = g.CutAt.Count > 0 ? [$"--tf-transforms=strip_unused_nodes(type=float, shape=\"{g.ShapeText}\")"] : [];
        Opt([original, .. g.MoptCutArgs, .. shape, "--convert-tf-to-onnx", "-o", onnx]);

        var input = OpenCvTfGraphs.InputValues(g, TfModels);
        using var ort = new OrtRunner(onnx);
        var feed = new NpyArray(ElementType.F32, [.. g.InputShape.Select(d => (long)d)], MemoryMarshal.AsBytes(input.AsSpan()).ToArray());
        var outputName = ort.OutputNames.Contains(g.Output) ? g.Output : Assert.Single(ort.OutputNames);
        var actual = ort.Run(new Dictionary<string, NpyArray> { [Assert.Single(ort.InputNames)] = feed }, [outputName])[outputName];

        var reference = RunInOpenCv(g, OpenCvTfGraphs.FileForOpenCv(g, TfModels, dir.Path));
        Assert.Equal(reference.Shape.Select(d => (long)d), actual.Shape);
        Assert.Equal(ElementType.F32, actual.Element);
        double difference = OpenCvReferee.MaxRelativeDifference(MemoryMarshal.Cast<byte, float>(actual.Data), reference.Values);
        Assert.True(difference <= Tolerance, $"{name}: ONNX Runtime vs OpenCV max relative difference {difference:G3} > {Tolerance:G1}");
    }
}
