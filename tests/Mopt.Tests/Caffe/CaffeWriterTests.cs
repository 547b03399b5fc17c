using Mopt.Caffe.Proto;
using Mopt.Frontend.Caffe;
using Mopt.Ir;
using Mopt.Ir.Printing;

namespace Mopt.Tests.Caffe;

/// <summary>
/// The Caffe writer (docs/formats/caffe.md, "Writing Caffe"): every real net in shared/models/caffe imported, written
/// back as prototxt + caffemodel and imported again gives the same IR, and OpenCV computes exactly the original's
/// outputs on the written pair; a module that is not all caffe.* is an error and writes nothing.
/// </summary>
public sealed class CaffeWriterTests
{
    private static string Models => Path.Combine(TestPaths.SharedModels, "caffe");

    /// <summary>The module a prototxt (with <paramref name="weights"/>, else the caffemodel of its stem) imports to.</summary>
    internal static MirModule Import(string prototxt, string? weights = null) => new CaffePrototxtReader(weights).Read(prototxt);

    internal static string Text(MirModule module) => MirPrinter.PrintToString(module, new PrintOptions());

    /// <summary>The net's inputs (names and shapes from the module's arguments) with seeded values.</summary>
    internal static List<CaffeInput> Inputs(MirModule module, int seed = 11)
    {
        var func = module.MainFunction;
        return func.Arguments.Select((a, i) =>
        {
            var shape = ((TensorType)a.Type).Shape!.Select(d => (int)d).ToArray();
            return new CaffeInput(func.ArgName(i)!, shape, CaffeTestNet.Values(seed + i, shape.Aggregate(1, (x, y) => x * y)));
        }).ToList();
    }

    /// <summary>The layers whose tops are the net's outputs (OpenCV names an output by its layer).</summary>
    internal static List<string> OutputLayers(MirModule module) =>
        module.MainFunction.Return!.Operands.Select(v => ((OpResult)v).Owner.Location.FirstName!).ToList();

    internal static List<string> LayerTypes(MirModule module) =>
        module.MainFunction.Body.Operations.Where(o => o.Name.StartsWith("caffe.", StringComparison.Ordinal)).Select(o => o.Name[6..]).ToList();

    [SharedModelsTheory]
    [InlineData("lenet/lenet.prototxt", "lenet/lenet_iter_9000.caffemodel")]
    [InlineData("mtcnn/det1.prototxt", null)]
    [InlineData("mtcnn/det2.prototxt", null)]
    [InlineData("mtcnn/det3.prototxt", null)]
    [InlineData("yoloface_50k/yoloface-50k.prototxt", null)]
    [InlineData("landmark106/landmark106.prototxt", null)]
    public void RealNetWrittenBackImportsToTheSameIrAndRunsTheSameInOpenCv(string prototxt, string? weights)
    {
        using var dir = new TempDir();
        var source = Path.Combine(Models, prototxt);
        var weightsPath = weights is null ? Path.ChangeExtension(source, ".caffemodel") : Path.Combine(Models, weights);
        var written = dir.File("net.prototxt");
        var (exit, _, stderr) = Mir.Opt(source, "--caffe-weights=" + weightsPath, "-o", written);
        Assert.True(exit == 0, stderr);
        Assert.True(File.Exists(dir.File("net.caffemodel")), "no caffemodel beside the prototxt");
        Assert.DoesNotContain("blobs", File.ReadAllText(written));

        var original = Import(source, weightsPath);
        var again = Import(written);
        Assert.Equal(Text(original), Text(again));

        var inputs = Inputs(original);
        var outputs = OutputLayers(original);
        var expected = CaffeReferee.RunOpenCv(source, weightsPath, inputs, outputs);
        var actual = CaffeReferee.RunOpenCv(written, dir.File("net.caffemodel"), inputs, outputs);
        for (int k = 0; k < outputs.Count; k++)
        {
            Assert.Equal(expected[k].Shape, actual[k].Shape);
            Assert.Equal(expected[k].Values, actual[k].Values);
        }
    }

    /// <summary><c>-o x.caffemodel</c> alone: the binary with the layers and their blobs, nothing beside it.</summary>
    [SharedModelsFact]
    public void CaffemodelAloneHoldsTheLayersAndBlobs()
    {
        using var dir = new TempDir();
        var source = Path.Combine(Models, "mtcnn", "det1.prototxt");
        var (exit, _, stderr) = Mir.Opt(source, "-o", dir.File("alone.caffemodel"));
        Assert.True(exit == 0, stderr);
        Assert.False(File.Exists(dir.File("alone.prototxt")));
        var net = CaffeImporter.ReadFile(dir.File("alone.caffemodel"));
        Assert.Equal(["Convolution", "PReLU", "Pooling"], net.Layer.Take(3).Select(l => l.Type));
        Assert.Equal(2, net.Layer[0].Blobs.Count);
        Assert.Equal(Text(Import(source)), Text(CaffeImporter.ImportFile(dir.File("alone.caffemodel"))));
    }

    [Fact]
    public void InPlaceLayersStayInPlaceAndInputsComeBack()
    {
        using var dir = new TempDir();
        var net = CaffeTestNet.Write(dir, "inplace", """
            name: "inplace"
            input: "data"
            input_shape { dim: 1 dim: 2 dim: 3 dim: 3 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 1 bias_term: false } }
            layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" relu_param { negative_slope: 0.25 } }
            layer { name: "drop" type: "Dropout" bottom: "conv" top: "conv" include { phase: TEST } }
            """, new Dictionary<string, BlobProto[]> { ["conv"] = [CaffeTestNet.Random(3, -1, 1, 2, 2, 1, 1)] });
        var (exit, _, stderr) = Mir.Opt(net.Prototxt, "-o", dir.File("out.prototxt"));
        Assert.True(exit == 0, stderr);
        var written = CaffePrototxtReader.ParseText(dir.File("out.prototxt"));
        Assert.Equal(["data"], written.Input);
        Assert.Equal([1L, 2, 3, 3], written.InputShape.Single().Dim);
        Assert.Equal(["conv", "conv", "conv"], written.Layer.Select(l => l.Top.Single()));
        Assert.Equal(["data", "conv", "conv"], written.Layer.Select(l => l.Bottom.Single()));
        Assert.False(written.Layer[0].ConvolutionParam.BiasTerm);
        Assert.Equal(0.25f, written.Layer[1].ReluParam.NegativeSlope);
        Assert.Equal(Phase.Test, written.Layer[2].Include.Single().Phase);
    }

    [Fact]
    public void AModuleNotInCaffeIsAnErrorAndWritesNothing()
    {
        using var dir = new TempDir();
        var onnx = dir.Write("m.mir", """
            func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
              %y = "onnx.Relu"(%x) : (tensor<2xf32>) -> tensor<2xf32> loc("relu")
              return %y : tensor<2xf32>
            }
            """);
        var (exit, _, stderr) = Mir.Opt(onnx, "-o", dir.File("out.prototxt"));
        Assert.Equal(1, exit);
        Assert.Contains("'onnx.Relu' (relu) is not a Caffe layer", stderr);
        Assert.Empty(Directory.GetFiles(dir.Path, "out.*"));
        Assert.Empty(Directory.GetFiles(dir.Path, ".out.*"));
    }

    [Fact]
    public void AnAttributeWithNoFieldIsAnErrorNamingTheLayer()
    {
        using var dir = new TempDir();
        var mir = dir.Write("m.mir", """
            func.func @main(%x: tensor<1x2xf32> {mo.name = "data"}) -> tensor<*xf32> {
              %y = "caffe.ReLU"(%x) {caffe.param_field = "relu_param", slope = 1.0 : f32, mo.outputs = ["y"]} : (tensor<1x2xf32>) -> tensor<*xf32> loc("relu")
              return %y : tensor<*xf32>
            }
            """);
        var (exit, _, stderr) = Mir.Opt(mir, "-o", dir.File("out.prototxt"));
        Assert.Equal(1, exit);
        Assert.Contains("layer 'relu' (ReLU): attribute 'slope' is no field of relu_param", stderr);
        Assert.Empty(Directory.GetFiles(dir.Path, "out.*"));
    }

    /// <summary>A nested message's attribute with no field: the error names the layer, its parameter message and the nested field.</summary>
    [Fact]
    public void ANestedAttributeWithNoFieldIsAnErrorNamingItsPath()
    {
        using var dir = new TempDir();
        var mir = dir.Write("m.mir", """
            func.func @main(%x: tensor<1x2x4x4xf32> {mo.name = "data"}) -> tensor<*xf32> {
              %y = "caffe.ReLU"(%x) {caffe.param_field = "relu_param", negative_slope = 0.5 : f32, mo.outputs = ["y"]} : (tensor<1x2x4x4xf32>) -> tensor<*xf32> loc("relu")
              %w = "onnx.Constant"() {value = dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>} : () -> tensor<2x2x1x1xf32> loc("conv")
              %z = "caffe.Convolution"(%y, %w) {caffe.blobs = 1 : i64, caffe.param_field = "convolution_param", num_output = 2 : i64, kernel_size = [1], bias_term = false, weight_filler = {type = "xavier", typ = "x"}, mo.outputs = ["z"]} : (tensor<*xf32>, tensor<2x2x1x1xf32>) -> tensor<*xf32> loc("conv")
              return %z : tensor<*xf32>
            }
            """);
        var (exit, _, stderr) = Mir.Opt(mir, "-o", dir.File("out.prototxt"));
        Assert.Equal(1, exit);
        Assert.Contains("layer 'conv' (Convolution): convolution_param: 'weight_filler': attribute 'typ' is no field of FillerParameter", stderr);
        Assert.Empty(Directory.GetFiles(dir.Path, "out.*"));
    }

    /// <summary>A value read after an in-place layer took its name over gets a name of its own (Caffe reads the latest).</summary>
    [Fact]
    public void AValueReadAfterItsNameWasOverwrittenIsRenamed()
    {
        using var dir = new TempDir();
        var mir = dir.Write("m.mir", """
            func.func @main(%x: tensor<1x2xf32> {mo.name = "data"}) -> (tensor<*xf32>, tensor<*xf32>) {
              %a = "caffe.TanH"(%x) {mo.outputs = ["t"]} : (tensor<1x2xf32>) -> tensor<*xf32> loc("tanh")
              %b = "caffe.ReLU"(%a) {mo.outputs = ["t"]} : (tensor<*xf32>) -> tensor<*xf32> loc("relu")
              %c = "caffe.Sigmoid"(%a) {mo.outputs = ["s"]} : (tensor<*xf32>) -> tensor<*xf32> loc("sigmoid")
              return %b, %c : tensor<*xf32>, tensor<*xf32>
            }
            """);
        var (exit, _, stderr) = Mir.Opt(mir, "-o", dir.File("out.prototxt"));
        Assert.True(exit == 0, stderr);
        var written = CaffePrototxtReader.ParseText(dir.File("out.prototxt"));
        Assert.Equal(["t_1", "t", "s"], written.Layer.Select(l => l.Top.Single()));
        Assert.Equal(["data", "t_1", "t_1"], written.Layer.Select(l => l.Bottom.Single()));
    }
}
