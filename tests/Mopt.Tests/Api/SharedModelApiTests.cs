using Mopt.Api;
using Mopt.Ir;
using Mopt.Onnx.Proto;
using Mopt.Passes;

namespace Mopt.Tests.Api;

/// <summary>
/// The library API on the real models in ../shared/models: each format loads (with its options), counts agree with the
/// files themselves, an int8 result verifies within its bound, a TensorFlow model saves as ONNX (the model itself left
/// in tf.*), and the seed's TransformGraph and SummarizeGraph on the keyword-spotting and MNIST graphs.
/// </summary>
public sealed class SharedModelApiTests
{
    private static string Shared(string relative) => Path.Combine(TestPaths.SharedModels, relative);

    private static int Count(Model model, string op) => model.OpHistogram().FirstOrDefault(c => c.Op == op)?.Count ?? 0;

    [SharedModelsFact]
    public void OnnxCountsAgreeWithTheFile()
    {
        var path = Shared("onnx/connxr_mnist/model.onnx");
        var model = Model.Load(path);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        foreach (var group in proto.Graph.Node.GroupBy(n => n.OpType))
            Assert.Equal(group.Count(), Count(model, "onnx." + group.Key));
        Assert.Equal(proto.Graph.Initializer.Count, Count(model, "onnx.Constant"));
        var input = Assert.Single(model.Inputs);
        Assert.Equal("Input3", input.Name);
        Assert.Equal([1L, 1, 28, 28], input.Shape);
        Assert.Equal("Plus214_Output_0", Assert.Single(model.Outputs).Name);
        var summary = model.Summarize();
        Assert.Equal(8, summary.Opset);
        Assert.Equal(proto.Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d)), summary.ParameterTotal);
    }

    [SharedModelsFact]
    public void Int8VerifiesWithinItsBoundAndSavesAsOnnx()
    {
        using var tmp = new TempDir();
        var path = Shared("onnx/connxr_mnist/model.onnx");
        var model = Model.Load(path);
        model.Run(Pipeline.Named("deploy").Then(Pipeline.ForPass("quantize-int8", "calibration=random:8")));
        Assert.True(Count(model, "onnx.QuantizeLinear") > 0);
        var result = model.VerifyAgainst(path, new VerifyOptions { Tolerance = 0.1 });
        var output = Assert.Single(result.Outputs);
        Assert.InRange(output.MaxRelDiff, 1e-7, 0.1); // int8 moves it, but not far
        Assert.True(result.Passed);
        var saved = tmp.File("mnist.int8.onnx");
        model.Save(saved);
        var reloaded = Model.Load(saved);
        Assert.Equal(model.OpHistogram(), reloaded.OpHistogram());
        Assert.Equal(output.MaxAbsDiff, reloaded.VerifyAgainst(path, new VerifyOptions { Tolerance = 0.1 }).Outputs[0].MaxAbsDiff);
    }

    [SharedModelsFact]
    public void CaffeNeedsItsWeightsOption()
    {
        var prototxt = Shared("caffe/lenet/lenet.prototxt");
        var missing = Assert.Throws<MirException>(() => Model.Load(prototxt));
        Assert.Contains("layer 'conv1' (Convolution) has no blobs", missing.Message); // the layer's name, as the command says
        var model = Model.Load(prototxt, new LoadOptions { CaffeWeights = Shared("caffe/lenet/lenet_iter_9000.caffemodel") });
        Assert.Equal(2, Count(model, "caffe.Convolution"));
        Assert.Equal(2, Count(model, "caffe.InnerProduct"));
        // conv1 20x1x5x5+20, conv2 50x20x5x5+50, ip1 500x800+500, ip2 10x500+10
        Assert.Equal(520 + 25_050 + 400_500 + 5_010, model.Summarize().ParameterTotal);
        Assert.Equal([64L, 1, 28, 28], Assert.Single(model.Inputs).Shape);
    }

    [SharedModelsFact]
    public void PaddleFormatsLoad()
    {
        var fitALine = Model.Load(Shared("paddle/paddle2onnx_fit_a_line"));
        Assert.Equal([-1L, 13], Assert.Single(fitALine.Inputs).Shape);
        Assert.Equal(14, fitALine.Summarize().ParameterTotal); // 13 weights and a bias
        Assert.Equal(1, Count(fitALine, "paddle.mul"));

        var pdmodel = Model.Load(Shared("paddle/paddlelite_simple_model/model.pdmodel"));
        Assert.Equal("image", Assert.Single(pdmodel.Inputs).Name);
        Assert.Equal(1, Count(pdmodel, "paddle.conv2d"));
        Assert.Equal(1, Count(pdmodel, "paddle.batch_norm"));
    }

    [SharedModelsFact]
    public void TensorFlowLoadsWithItsOptionsAndSavesAsOnnxOnACopy()
    {
        using var tmp = new TempDir();
        var path = Shared("tf/nnstreamer_mnist/mnist.pb");
        var model = Model.Load(path, new LoadOptions { TfOutputs = ["softmax"] });
        Assert.Equal("softmax", Assert.Single(model.Outputs).Name);
        Assert.Equal(1, Count(model, "tf.MatMul"));
        Assert.Equal(7850, model.Summarize().ParameterTotal); // 784x10 + 10
        var onnx = tmp.File("mnist.onnx");
        model.Save(onnx);
        Assert.Equal(1, Count(model, "tf.MatMul")); // saving lowered a copy
        var lowered = Model.Load(onnx);
        Assert.DoesNotContain(lowered.OpHistogram(), c => c.Op.StartsWith("tf.", StringComparison.Ordinal));
        Assert.True(lowered.VerifyAgainst(path).Passed);

        var wrongFormat = Assert.Throws<PipelineException>(() => Model.Load(Shared("onnx/connxr_mnist/model.onnx"), new LoadOptions { TfOutputs = ["y"] }));
        Assert.StartsWith("--tf-outputs and --tf-inputs apply to a TensorFlow .pb input", wrongFormat.Message);
    }

    [SharedModelsFact]
    public void TransformGraphCutsFoldsAndWrites()
    {
        using var tmp = new TempDir();
        var kws = Shared("tf/ml_kws_cnn_s/CNN_S.pb");
        string[] inputs = ["Reshape_1"], outputs = ["labels_softmax"];
        // the reference: the same cut, only given its shape
        var cut = GraphTransformTool.TransformGraph(kws, tmp.Path, "cut.pb", inputs, outputs, "strip_unused_nodes(type=float, shape=\"1,49,10,1\")");
        var written = GraphTransformTool.TransformGraph(kws, Path.Combine(tmp.Path, "out"), "deployed.pb", inputs, outputs,
            "strip_unused_nodes(type=float, shape=\"1,49,10,1\") remove_nodes(op=Identity) fold_constants(ignore_errors=true) fold_old_batch_norms");
        Assert.Equal(Path.Combine(tmp.Path, "out", "deployed.pb"), written);

        var before = Model.Load(cut);
        var after = Model.Load(written);
        Assert.Equal(2, Count(before, "tf.FusedBatchNorm"));
        Assert.Equal(0, Count(after, "tf.FusedBatchNorm"));
        Assert.Equal(0, Count(after, "tf.Identity"));
        Assert.Equal(2, Count(after, "tf.Conv2D"));
        var input = Assert.Single(after.Inputs);
        Assert.Equal("Reshape_1", input.Name);
        Assert.Equal([1L, 49, 10, 1], input.Shape);
        var verify = after.VerifyAgainst(cut);
        Assert.True(verify.Passed, verify.Report);
        Assert.InRange(verify.Outputs[0].MaxRelDiff, 0, 1e-5);

        // a bad transform: the command's message, and nothing written
        var bad = Assert.Throws<PipelineException>(() => GraphTransformTool.TransformGraph(kws, tmp.Path, "bad.pb", inputs, outputs, "fold_everything"));
        Assert.StartsWith("--tf-transforms: unknown transform 'fold_everything'; mopt knows: strip_unused_nodes", bad.Message);
        Assert.False(File.Exists(tmp.File("bad.pb")));
    }

    [SharedModelsFact]
    public void SummarizeGraphIsSummarizeGraphsText()
    {
        var path = Shared("tf/ml_kws_cnn_s/CNN_S.pb");
        var text = GraphTransformTool.SummarizeGraph(path);
        var lines = text.Split('\n');
        Assert.Equal("Found 1 possible inputs: (name=wav_data, type=string(7), shape=[])", lines[0]);
        Assert.Equal("Found 1 possible outputs: (name=labels_softmax, op=Softmax)", lines[1]);
        Assert.Contains("2 FusedBatchNorm", lines[3]);
        // what mopt-opt --summarize prints
        var stdout = new StringWriter();
        Assert.Equal(0, Mopt.Tools.Opt.OptTool.Run([path, "--summarize"], stdout, new StringWriter()));
        Assert.Equal(stdout.ToString(), text);
    }
}
