using Mopt.Api;
using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Tests.Api;

/// <summary>
/// The library API on the bundled example (examples/small_cnn.mir, a small CNN with 2 batch-norms): load, run by name,
/// by pipeline string and by named pipeline, the op histogram and summary, verification figures, save and reload, and
/// the errors (nulls, unknown passes with the known ones listed, a bad .mir with its file:line:col).
/// </summary>
public sealed class ModelApiTests
{
    private static string SmallCnn => Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir");

    private static int Count(Model model, string op) => model.OpHistogram().FirstOrDefault(c => c.Op == op)?.Count ?? 0;

    [Fact]
    public void LoadReadsInputsOutputsAndHistogram()
    {
        var model = Model.Load(SmallCnn);
        Assert.Equal(SmallCnn, model.Path);
        var input = Assert.Single(model.Inputs);
        Assert.Equal("input", input.Name);
        Assert.Equal("tensor<1x3x16x16xf32>", input.Type);
        Assert.Equal("f32", input.ElementType);
        Assert.Equal([1L, 3, 16, 16], input.Shape);
        var output = Assert.Single(model.Outputs);
        Assert.Equal("probabilities", output.Name);
        Assert.Equal([1L, 10], output.Shape);
        // the file's ops, counted independently of the API
        var text = File.ReadAllText(SmallCnn);
        foreach (var op in new[] { "onnx.BatchNormalization", "onnx.Conv", "onnx.Constant", "onnx.Relu", "onnx.Gemm" })
            Assert.Equal(text.Split($"\"{op}\"").Length - 1, Count(model, op));
        var histogram = model.OpHistogram();
        Assert.Equal("onnx.Constant", histogram[0].Op); // most frequent first
        Assert.True(histogram.Zip(histogram.Skip(1)).All(p => p.First.Count >= p.Second.Count));
        Assert.DoesNotContain(histogram, c => c.Op == FuncOp.ReturnOpName);
    }

    [Fact]
    public void SummaryValuesAgreeWithItsTextAndTheHistogram()
    {
        var model = Model.Load(SmallCnn);
        var summary = model.Summarize();
        Assert.Equal("small_cnn", summary.Name);
        Assert.Equal(17, summary.Opset);
        Assert.Equal(model.OpHistogram().Sum(c => c.Count), summary.ComputeOperations + summary.Constants);
        Assert.Equal(Count(model, "onnx.Constant"), summary.Constants);
        var f32 = Assert.Single(summary.Parameters);
        Assert.Equal("f32", f32.ElementType);
        Assert.Equal(4 * f32.Count, f32.Bytes);
        Assert.Contains($"{summary.ComputeOperations + summary.Constants} operations ({summary.ComputeOperations} compute, {summary.Constants} constants):", summary.Text);
        Assert.Contains($"parameters: {summary.ParameterTotal:N0} (", summary.Text);
        // the text is what mopt-opt --summarize prints
        var (code, stdout, _) = RunTool(SmallCnn, "--summarize");
        Assert.Equal(0, code);
        Assert.Equal(stdout, summary.Text);
    }

    [Fact]
    public void RunByNameFoldsTheBatchNorms()
    {
        var model = Model.Load(SmallCnn);
        Assert.Equal(2, Count(model, "onnx.BatchNormalization"));
        var result = model.Run("fold-bn");
        Assert.Equal(0, Count(model, "onnx.BatchNormalization"));
        Assert.Equal(["fold-bn"], result.Runs.Select(r => r.Pass.Name));
        Assert.StartsWith("fold-bn: ", Assert.Single(result.Statistics));
        Assert.Contains("2", result.Statistics[0]);
    }

    [Fact]
    public void RunWithOptionsAndByPipelineString()
    {
        var model = Model.Load(SmallCnn);
        var result = model.RunPipeline("canonicalize,fold-bn");
        Assert.Equal(["canonicalize", "fold-bn"], result.Runs.Select(r => r.Pass.Name));
        Assert.Equal(0, Count(model, "onnx.BatchNormalization"));
        Assert.Equal(0, Count(model, "onnx.Identity")); // canonicalize drops it

        var quantized = Model.Load(SmallCnn);
        quantized.Run("quantize-int8", "calibration=random:4");
        Assert.True(Count(quantized, "onnx.QuantizeLinear") > 0);
        Assert.True(Count(quantized, "onnx.DequantizeLinear") > 0);
    }

    [Fact]
    public void NamedPipelineAndComposedPipelines()
    {
        var model = Model.Load(SmallCnn);
        var before = model.OpHistogram().Sum(c => c.Count);
        var deploy = Pipeline.Named("deploy");
        Assert.Contains("fold-bn", deploy.PassNames);
        var result = model.Run(deploy);
        Assert.Equal(deploy.PassNames, result.Runs.Select(r => r.Pass.Name));
        Assert.True(model.OpHistogram().Sum(c => c.Count) < before);
        Assert.Equal(0, Count(model, "onnx.BatchNormalization"));

        var composed = Pipeline.Named("deploy").Then(Pipeline.ForPass("quantize-int8", "calibration=random:4"));
        Assert.Equal([.. deploy.PassNames, "quantize-int8"], composed.PassNames);
        // one pipeline runs on several models: fresh passes each run
        var a = Model.Load(SmallCnn);
        var b = Model.Load(SmallCnn);
        a.Run(composed);
        b.Run(composed);
        Assert.Equal(a.OpHistogram(), b.OpHistogram());
        Assert.True(Count(b, "onnx.QuantizeLinear") > 0);
    }

    [Fact]
    public void UnknownPassesListTheKnownOnes()
    {
        var model = Model.Load(SmallCnn);
        var byName = Assert.Throws<PipelineException>(() => model.Run("fold-everything"));
        Assert.StartsWith("unknown pass 'fold-everything'; the passes are: ", byName.Message);
        Assert.Equal("fold-everything", byName.UnknownPass);
        foreach (var entry in PassRegistry.All) Assert.Contains(entry.Name, byName.Message);

        var inPipeline = Assert.Throws<PipelineException>(() => model.RunPipeline("canonicalize,fold-everything{x=1}"));
        Assert.StartsWith("unknown pass 'fold-everything'; the passes are: ", inPipeline.Message);
        Assert.Contains("quantize-int8", inPipeline.Message);

        var pipelineName = Assert.Throws<PipelineException>(() => model.Run("deploy"));
        Assert.Contains("'deploy' is a named pipeline", pipelineName.Message);

        var unknownPipeline = Assert.Throws<PipelineException>(() => model.RunNamedPipeline("nope"));
        Assert.Equal("unknown pipeline 'nope' (see --list-pipelines)", unknownPipeline.Message);
        var badOption = Assert.Throws<PipelineException>(() => model.Run("fold-bn", "no-such-option=1"));
        Assert.Contains("no-such-option", badOption.Message);
        // nothing ran: the model is as loaded
        Assert.Equal(2, Count(model, "onnx.BatchNormalization"));
    }

    [Fact]
    public void NullsAreArgumentNullExceptions()
    {
        var model = Model.Load(SmallCnn);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => Model.Load(null!)).ParamName);
        Assert.Equal("mirText", Assert.Throws<ArgumentNullException>(() => Model.Parse(null!)).ParamName);
        Assert.Equal("pass", Assert.Throws<ArgumentNullException>(() => model.Run((string)null!)).ParamName);
        Assert.Equal("pipeline", Assert.Throws<ArgumentNullException>(() => model.Run((Pipeline)null!)).ParamName);
        Assert.Equal("passPipeline", Assert.Throws<ArgumentNullException>(() => model.RunPipeline(null!)).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => model.RunNamedPipeline(null!)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => model.Save(null!)).ParamName);
        Assert.Equal("originalPath", Assert.Throws<ArgumentNullException>(() => model.VerifyAgainst((string)null!)).ParamName);
        Assert.Equal("original", Assert.Throws<ArgumentNullException>(() => model.VerifyAgainst((Model)null!)).ParamName);
        Assert.Equal("next", Assert.Throws<ArgumentNullException>(() => Pipeline.Named("deploy").Then(null!)).ParamName);
        Assert.Equal("transforms", Assert.Throws<ArgumentNullException>(() => GraphTransformTool.TransformGraph("a.pb", "d", "b.pb", [], [], null!)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => GraphTransformTool.SummarizeGraph(null!)).ParamName);
    }

    [Fact]
    public void BadMirTextIsAMirExceptionWithItsPosition()
    {
        using var tmp = new TempDir();
        var path = tmp.Write("bad.mir", "module {\n  func.func @main() {\n    %0 = \"onnx.Relu\"(%missing) : (tensor<2xf32>) -> tensor<2xf32>\n    \"func.return\"() : () -> ()\n  }\n}\n");
        var e = Assert.Throws<MirException>(() => Model.Load(path));
        Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(path)}:3:\d+: error: ", e.Format());
        Assert.Equal(3, e.Position!.Line);
        // the same message the command prints
        var (code, _, stderr) = RunTool(path);
        Assert.Equal(1, code);
        Assert.Equal(e.Format(), stderr.TrimEnd('\n'));

        var fromText = Assert.Throws<MirException>(() => Model.Parse("module {\n  oops\n}\n", "text.mir"));
        Assert.StartsWith("text.mir:2:", fromText.Format());

        var unknownFormat = Assert.Throws<MirException>(() => Model.Load(tmp.File("model.xyz")));
        Assert.Contains("unknown input format", unknownFormat.Message);
        var options = Assert.Throws<PipelineException>(() => Model.Load(SmallCnn, new LoadOptions { CaffeWeights = "w.caffemodel" }));
        Assert.Equal($"--caffe-weights gives the blobs of a Caffe .prototxt input, not of '{SmallCnn}'", options.Message);
    }

    [Fact]
    public void VerifyReturnsTheFiguresAndFailsAboveTheTolerance()
    {
        var model = Model.Load(SmallCnn);
        model.RunNamedPipeline("deploy");
        var result = model.VerifyAgainst(SmallCnn, new VerifyOptions { Tolerance = 1e-5 });
        Assert.True(result.Passed);
        var output = Assert.Single(result.Outputs);
        Assert.Equal("probabilities", output.Name);
        Assert.True(output.ShapesMatch);
        Assert.Equal([1L, 10], output.ExpectedShape);
        Assert.InRange(output.MaxRelDiff, 0, 1e-5);
        Assert.InRange(output.MaxAbsDiff, 0, 1e-5);
        Assert.Equal(1.0, output.Top1Agreement);
        Assert.Equal("random inputs (seed 0)", result.Inputs);
        Assert.EndsWith("verify: passed (max relative diff within 1E-05)\n", result.Report.ReplaceLineEndings("\n"));

        // int8 moves the outputs by more than 1e-9: the same comparison fails, with its figures
        var int8 = Model.Load(SmallCnn);
        int8.Run("quantize-int8", "calibration=random:4");
        var strict = int8.VerifyAgainst(SmallCnn, new VerifyOptions { Tolerance = 1e-9, Seed = 3 });
        Assert.False(strict.Passed);
        Assert.False(Assert.Single(strict.Outputs).Passed);
        Assert.True(strict.Outputs[0].MaxRelDiff > 1e-9);
        Assert.Contains("verify: FAILED", strict.Report);

        // against a model in memory: the clone before the pipeline
        var original = Model.Load(SmallCnn);
        var deployed = original.Clone();
        deployed.RunNamedPipeline("deploy");
        Assert.Equal(2, Count(original, "onnx.BatchNormalization")); // the clone is independent
        var inMemory = deployed.VerifyAgainst(original, new VerifyOptions { Tolerance = 1e-5 });
        Assert.True(inMemory.Passed);
        Assert.Equal(output.MaxAbsDiff, inMemory.Outputs[0].MaxAbsDiff);
    }

    [Fact]
    public void SaveAndReloadKeepTheModel()
    {
        using var tmp = new TempDir();
        var model = Model.Load(SmallCnn);
        model.RunNamedPipeline("deploy");
        var mir = tmp.File("deployed.mir");
        model.Save(mir);
        Assert.Equal(model.ToMir(), Model.Load(mir).ToMir());

        var onnx = tmp.File("deployed.onnx");
        model.Save(onnx);
        var reloaded = Model.Load(onnx);
        Assert.Equal(model.OpHistogram(), reloaded.OpHistogram());
        Assert.Equal(model.Inputs, reloaded.Inputs, new TensorInfoNameType());
        Assert.True(reloaded.VerifyAgainst(SmallCnn, new VerifyOptions { Tolerance = 1e-5 }).Passed);

        using var stream = new MemoryStream();
        model.Print(stream);
        Assert.Equal(model.ToMir(), System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        Assert.Contains("dense_resource<__elided__>", model.ToMir(elideConstantsLargerThan: 4));

        // an unknown output format: an error, and no file
        var bad = tmp.File("deployed.xyz");
        Assert.Contains("unknown output format", Assert.Throws<MirException>(() => model.Save(bad)).Message);
        Assert.False(File.Exists(bad));
    }

    [Fact]
    public void ToDotIsWhatViewOpGraphWritesAndSaveGraphRefusesWhatItCannotWrite()
    {
        var before = Model.Load(SmallCnn);
        var model = before.Clone();
        model.RunNamedPipeline("deploy");
        // the same DOT as the command's --view-op-graph, plain and as a diff against the input
        var (code, plain, _) = RunTool(SmallCnn, "--pipeline=deploy", "--view-op-graph");
        Assert.Equal(0, code);
        Assert.Equal(plain, model.ToDot());
        (code, var diff, _) = RunTool(SmallCnn, "--pipeline=deploy", "--view-op-graph=diff=" + SmallCnn);
        Assert.Equal(0, code);
        Assert.Equal(diff, model.ToDot(before));
        Assert.Contains("removed (dashed) 4</FONT>", diff); // 2 batch norms, the unused Sigmoid, the Identity

        using var tmp = new TempDir();
        var dot = tmp.File("deployed.dot");
        model.SaveGraph(dot, before);
        Assert.Equal(diff, File.ReadAllText(dot));
        var bad = tmp.File("deployed.jpg");
        Assert.Contains(".svg", Assert.Throws<PipelineException>(() => model.SaveGraph(bad)).Message);
        Assert.False(File.Exists(bad));
        Assert.Throws<ArgumentNullException>(() => model.SaveGraph(null!));
    }

    private static (int Code, string Stdout, string Stderr) RunTool(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Mopt.Tools.Opt.OptTool.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Tensor infos compared by value (a record's list member compares by reference).</summary>
    private sealed class TensorInfoNameType : IEqualityComparer<TensorInfo>
    {
        public bool Equals(TensorInfo? x, TensorInfo? y) =>
            x is not null && y is not null && x.Name == y.Name && x.Type == y.Type && x.ElementType == y.ElementType;
        public int GetHashCode(TensorInfo t) => t.Name.GetHashCode(StringComparison.Ordinal);
    }
}
