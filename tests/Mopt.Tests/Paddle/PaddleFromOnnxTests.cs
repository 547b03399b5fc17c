using Mopt.Frontend.Paddle;
using Mopt.Tests.Onnx;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Issue 14 item 4 from ONNX: real ONNX models written as Paddle (onnx.* lowered to paddle.* on the way), read back and
/// written as ONNX give the original's outputs in ONNX Runtime; what has no Paddle form is an error naming each node.
/// </summary>
public sealed class PaddleFromOnnxTests
{
    private static string OnnxModels => Path.Combine(TestPaths.SharedModels, "onnx");

    private static void Opt(params string[] args)
    {
        var (exit, _, stderr) = Mir.Opt(args);
        Assert.True(exit == 0, $"mopt-opt {string.Join(" ", args)}: {stderr}");
    }

    /// <summary>
    /// Every real ONNX model in shared/models/onnx: written as Paddle, read back and written as ONNX, its outputs are
    /// the original's (in ONNX Runtime; where ONNX Runtime has no kernel for an opset-6 op, the data set's reference
    /// outputs) within 1e-5 of the largest |value|. The opset-6 models (below mopt-opt's floor) go in as .mir text.
    /// </summary>
    [SharedModelsTheory]
    [InlineData("connxr_mnist/model.onnx", "test_data_set_0", false, new[] { "conv2d", "elementwise_add", "pool2d", "reshape2", "matmul_v2", "relu" })]
    [InlineData("connxr_mnist/model.onnx", "test_data_set_1", false, new[] { "conv2d" })]
    [InlineData("connxr_mnist/model.onnx", "test_data_set_2", false, new[] { "conv2d" })]
    [InlineData("connxr_super_resolution/model.onnx", "test_data_set_0", false, new[] { "conv2d", "reshape2", "transpose2" })]
    // its box decoding reads shapes: Shape → shape + cast, Gather → gather, the computed Reshape → reshape2's Shape input
    [InlineData("ultraface_rfb_320/version-RFB-320.onnx", null, false, new[] { "conv2d", "shape", "gather", "cast", "unsqueeze2", "fill_constant", "concat", "softmax", "slice", "exp" })]
    [InlineData("ultraface_rfb_320/version-RFB-320.onnx", null, true, new[] { "conv2d", "concat", "softmax", "slice", "exp", "transpose2" })]
    [InlineData("onnx_pytorch_converted/test_AvgPool2d_stride/model.onnx", "test_data_set_0", false, new[] { "pool2d" })]
    [InlineData("onnx_pytorch_converted/test_BatchNorm2d_eval/model.onnx", "test_data_set_0", false, new[] { "batch_norm" })]
    [InlineData("onnx_pytorch_converted/test_Conv2d_groups/model.onnx", "test_data_set_0", false, new[] { "conv2d", "elementwise_add" })]
    [InlineData("onnx_pytorch_converted/test_ConvTranspose2d/model.onnx", "test_data_set_0", false, new[] { "conv2d_transpose", "elementwise_add" })]
    [InlineData("onnx_pytorch_converted/test_Linear/model.onnx", "test_data_set_0", false, new[] { "matmul_v2", "elementwise_add" })]
    [InlineData("onnx_pytorch_converted/test_PReLU_2d/model.onnx", "test_data_set_0", false, new[] { "prelu" })]
    public void OnnxToPaddleToOnnxKeepsTheOutputs(string file, string? dataSet, bool deploy, string[] paddleOps)
    {
        using var dir = new TempDir();
        var original = Path.Combine(OnnxModels, file);
        var model = OnnxTestSupport.Load(original);
        var input = original;
        if (model.OpsetImport.Any(o => o.Domain.Length == 0 && o.Version < 7))
        {
            var module = OnnxTestSupport.Import(model, Path.GetDirectoryName(original));
            File.WriteAllText(dir.File("m.mir"), Mopt.Ir.Printing.MirPrinter.PrintToString(module));
            input = dir.File("m.mir");
        }
        Opt([input, .. deploy ? new[] { "--pipeline=deploy" } : [], "-o", dir.File("m.pdmodel")]);
        var program = PaddleModelFiles.Read(dir.File("m.pdmodel")).Program;
        var types = program.Blocks[0].Ops.Select(o => o.Type).ToHashSet();
        foreach (var op in paddleOps) Assert.Contains(op, types);
        Assert.DoesNotContain(types, t => t.StartsWith("onnx", StringComparison.Ordinal));
        Assert.Equal("feed", program.Blocks[0].Ops[0].Type);
        Assert.Equal("fetch", program.Blocks[0].Ops[^1].Type);

        Opt(dir.File("m.pdmodel"), "-o", dir.File("back.onnx"));
        var folder = Path.GetDirectoryName(original)!;
        var inputs = dataSet is not null
            ? OnnxTestSupport.TestInputs(original, Path.Combine(folder, dataSet))
            : [("input", new HostTensor(1, [1, 3, 240, 320], PaddleLoweringCheck.Values(3, 3 * 240 * 320, -1, 1).SelectMany(BitConverter.GetBytes).ToArray()))];
        var expected = Reference(original, dataSet is null ? null : Path.Combine(folder, dataSet), inputs);
        var actual = OnnxTestSupport.Run(dir.File("back.onnx"), inputs);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Shape, actual[i].Value.Shape);
            float scale = OnnxTestSupport.MaxAbsDiff(expected[i], expected[i] with { Bytes = new byte[expected[i].Bytes.Length] });
            float diff = OnnxTestSupport.MaxAbsDiff(expected[i], actual[i].Value);
            Assert.True(diff <= 1e-5f * Math.Max(scale, 1), $"{file} output {i}: max |a-b| {diff} (largest |a| {scale})");
        }
    }

    /// <summary>The original's outputs in ONNX Runtime; for an opset-6 op it has no kernel for, the data set's reference outputs.</summary>
    private static List<HostTensor> Reference(string original, string? dataSet, IReadOnlyList<(string, HostTensor)> inputs)
    {
        try
        {
            return OnnxTestSupport.Run(original, inputs).Select(o => o.Value).ToList();
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e) when (dataSet is not null && e.Message.Contains("Could not find an implementation"))
        {
            var outputs = new List<HostTensor>();
            for (int i = 0; File.Exists(Path.Combine(dataSet, $"output_{i}.pb")); i++)
                outputs.Add(HostTensor.FromProto(Mopt.Frontend.Onnx.OnnxTensorReader.ParseTensorFile(Path.Combine(dataSet, $"output_{i}.pb"))));
            Assert.NotEmpty(outputs);
            return outputs;
        }
    }

    public static TheoryData<string> CaffeNets() => new(Caffe.CaffeRealNets.All.Select(n => n.Name));

    /// <summary>Caffe → Paddle (through ONNX, after deploy) → ONNX: the outputs of Caffe → ONNX, in ONNX Runtime.</summary>
    [SharedModelsTheory]
    [MemberData(nameof(CaffeNets))]
    public void CaffeNetsWrittenAsPaddleKeepTheirOutputs(string name)
    {
        var net = Caffe.CaffeRealNets.Named(name);
        var models = Caffe.CaffeRealNets.Models;
        using var dir = new TempDir();
        Opt([.. net.MoptInput(models), "--pipeline=deploy", "-o", dir.File("direct.onnx")]);
        Opt([.. net.MoptInput(models), "--pipeline=deploy", "-o", dir.File("m.pdmodel")]);
        Opt(dir.File("m.pdmodel"), "-o", dir.File("back.onnx"));
        var input = net.Feed(models);
        var expected = Caffe.CaffeReferee.RunOrt(dir.File("direct.onnx"), [input], net.Outputs);
        var actual = Caffe.CaffeReferee.RunOrt(dir.File("back.onnx"), [input], net.Outputs);
        Assert.True(Caffe.CaffeReferee.MaxDifference(actual, expected) <= 1e-6, $"{name}: {Caffe.CaffeReferee.MaxDifference(actual, expected):E2}");
    }

    public static TheoryData<string> TfGraphs() => new(Tf.OpenCvTfGraphs.All.Select(g => g.Name));

    /// <summary>TensorFlow → Paddle (through ONNX) → ONNX: the outputs of TensorFlow → ONNX, in ONNX Runtime.</summary>
    [SharedModelsTheory]
    [MemberData(nameof(TfGraphs))]
    public void TfGraphsWrittenAsPaddleKeepTheirOutputs(string name)
    {
        var graph = Tf.OpenCvTfGraphs.Named(name);
        var tfModels = Path.Combine(TestPaths.SharedModels, "tf");
        using var dir = new TempDir();
        string[] args = [Path.Combine(tfModels, graph.File), "--tf-outputs=" + graph.Output,
            .. graph.CutAt.Count > 0 ? new[] { "--tf-inputs=" + string.Join(",", graph.CutAt) } : [],
            $"--set-input-shape={graph.Input}={string.Join("x", graph.InputShape)}"];
        Opt([.. args, "-o", dir.File("direct.onnx")]);
        Opt([.. args, "-o", dir.File("m.pdmodel")]);
        Opt(dir.File("m.pdmodel"), "-o", dir.File("back.onnx"));
        var values = Tf.OpenCvTfGraphs.InputValues(graph, tfModels);
        // the one input and the one output, by place (the ONNX names of a TF graph's tensors carry their ':0')
        float[] Run(string onnx)
        {
            using var ort = new Mopt.Backend.Runtime.OrtRunner(File.ReadAllBytes(onnx));
            var feed = new Dictionary<string, Mopt.Backend.Runtime.NpyArray>
            {
                [ort.InputNames.Single()] = new(Mopt.Ir.ElementType.F32, [.. graph.InputShape.Select(d => (long)d)], values.SelectMany(BitConverter.GetBytes).ToArray()),
            };
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(ort.Run(feed).Values.Single().Data).ToArray();
        }
        var expected = Run(dir.File("direct.onnx"));
        var actual = Run(dir.File("back.onnx"));
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs(v)), worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-6 * Math.Max(scale, 1e-12), $"{name}: max |a-b| {worst:E2} against max |a| {scale:E2}");
    }

    [Fact]
    public void BatchNormGemmAndGlobalPoolOfTheExampleKeepTheirOutputs()
    {
        using var dir = new TempDir();
        Opt(Mir.ExamplePath, "-o", dir.File("original.onnx"));
        Opt(Mir.ExamplePath, "-o", dir.File("m.pdmodel"));
        var program = PaddleModelFiles.Read(dir.File("m.pdmodel")).Program;
        var bn = program.Blocks[0].Ops.First(o => o.Type == "batch_norm");
        Assert.Equal(["MeanOut", "SavedMean", "SavedVariance", "VarianceOut", "Y"], bn.Outputs.Select(o => o.Parameter));
        Assert.Contains(program.Blocks[0].Ops, o => o.Type == "pool2d" && o.Attrs.Any(a => a.Name == "global_pooling" && a.B));
        Assert.Contains(program.Blocks[0].Ops, o => o.Type == "matmul_v2");
        Opt(dir.File("m.pdmodel"), "-o", dir.File("back.onnx"));
        var inputs = new List<(string, HostTensor)> { ("input", new HostTensor(1, [1, 3, 16, 16], PaddleLoweringCheck.Values(4, 3 * 16 * 16).SelectMany(BitConverter.GetBytes).ToArray())) };
        var expected = OnnxTestSupport.Run(dir.File("original.onnx"), inputs);
        var actual = OnnxTestSupport.Run(dir.File("back.onnx"), inputs);
        Assert.True(OnnxTestSupport.MaxAbsDiff(expected[0].Value, actual[0].Value) <= 1e-6f);
    }

    [SharedModelsFact]
    public void InputOfUnknownRankIsNamed()
    {
        using var dir = new TempDir();
        var output = dir.File("m.pdmodel");
        var (exit, _, stderr) = Mir.Opt([Path.Combine(TestPaths.SharedModels, "tf", "ml_kws_cnn_s", "CNN_S.pb"), "--tf-inputs=Reshape_1", "--tf-outputs=labels_softmax", "-o", output]);
        Assert.Equal(1, exit);
        Assert.Contains("input Reshape_1: its rank is not known, and a Paddle var declares one (give the input's shape with --set-input-shape)", stderr);
        Assert.False(File.Exists(output));
    }
}
