using Mopt.Backend.Runtime;
using Mopt.Frontend.Tf;
using Mopt.Ir;
using Mopt.Passes;
using Mopt.Passes.Conversion;

namespace Mopt.Tests.Tf;

/// <summary>
/// --convert-tf-to-onnx on the real graphs of shared/models/tf: each lowers and runs in ONNX Runtime, MNIST answers 9
/// on its sample, no Transpose reads a Transpose (no pair that cancels is left) and only the edge transposes remain, and
/// the transpose optimization changes no output.
/// </summary>
public sealed class TfLoweringTests
{
    private static string TfModels => Path.Combine(TestPaths.SharedModels, "tf");

    /// <summary>Graph, the node to cut at (or none), the input shape to set, the output shape, the Transposes left.</summary>
    public static TheoryData<string, string, string, string, int> Graphs() => new()
    {
        // MLPs: no layout at all.
        { "nnstreamer_mnist/mnist.pb", "", "input=1x784", "1x10", 0 },
        { "tf2onnx_fc_layers/frozen.pb", "", "X=1x784", "1x10", 0 },
        // The input's NHWC → NCHW only: the last feature map is 1x1, so its flatten needs no Transpose.
        { "utensor_cifar10_cnn/cifar10_cnn.pb", "", "Placeholder=1x32x32x3", "1", 1 },
        // The input's; the pool's goes into the Squeeze after it.
        { "ml_kws_ds_cnn_s/DS_CNN_S.pb", "Reshape_1", "Reshape_1=1x49x10x1", "1x12", 1 },
        // The input's; the one before Reshape_2 (which flattens NHWC for the fully connected layer) goes into its weights.
        { "ml_kws_cnn_s/CNN_S.pb", "Reshape_1", "Reshape_1=1x49x10x1", "1x12", 1 },
    };

    private static MirModule Import(string relative, string cut) =>
        TfImporter.ImportFile(Path.Combine(TfModels, relative), cut.Length == 0 ? null : new TfImportOptions { Inputs = [cut] });

    private static MirModule Lower(string relative, string cut, string shape, bool optimize = true)
    {
        var module = Import(relative, cut);
        var pm = new PassManager { Services = TestRuntime.Services };
        pm.Passes.Add(PassRegistry.Create("set-input-shape", shape));
        pm.Passes.Add(PassRegistry.Create("convert-tf-to-onnx", optimize ? null : "optimize-transposes=false"));
        pm.Run(module);
        return module;
    }

    [SharedModelsTheory]
    [MemberData(nameof(Graphs))]
    public void LowersRunsAndLeavesTransposesAtTheEdges(string relative, string cut, string shape, string outputShape, int transposes)
    {
        var module = Lower(relative, cut, shape);
        Assert.DoesNotContain(module.AllOperations(), o => o.Dialect == "tf");
        var ts = module.AllOperations().Where(o => o.Name == "onnx.Transpose").ToList();
        Assert.All(ts, t => Assert.False(t.GetOperand(0) is OpResult { Owner.Name: "onnx.Transpose" }, $"{t.Location}: a Transpose of a Transpose is left"));
        Assert.Equal(transposes, ts.Count);
        // The edge: every Transpose left reads a graph input.
        Assert.All(ts, t => Assert.True(t.GetOperand(0) is BlockArgument, $"{t.Location} is inside the graph"));

        // The outputs keep their TensorFlow names; the model runs.
        var func = module.MainFunction;
        var names = Enumerable.Range(0, func.Type.Results.Count).Select(i => func.ResultName(i) ?? "").ToList();
        using var runner = new OrtRunner(ModelProbes.ToOnnxBytes(module), what: relative);
        Assert.Equal(names, runner.OutputNames);
        var outputs = runner.Run(RandomInputs.For(runner.Inputs, seed: 1));
        var first = outputs[runner.OutputNames[0]];
        Assert.Equal(outputShape, string.Join('x', first.Shape));
        Assert.All(RandomInputs.ToDoubles(first), v => Assert.True(double.IsFinite(v)));
    }

    [SharedModelsTheory]
    [MemberData(nameof(Graphs))]
    public void TransposeOptimizationKeepsTheOutputs(string relative, string cut, string shape, string outputShape, int transposes)
    {
        _ = (outputShape, transposes);
        using var plain = new OrtRunner(ModelProbes.ToOnnxBytes(Lower(relative, cut, shape, optimize: false)), what: "lowered");
        using var optimized = new OrtRunner(ModelProbes.ToOnnxBytes(Lower(relative, cut, shape)), what: "lowered, transposes optimized");
        var inputs = RandomInputs.For(plain.Inputs, seed: 2);
        var expected = plain.Run(inputs);
        var actual = optimized.Run(inputs);
        foreach (var name in plain.OutputNames)
        {
            var d = OutputDifference.Compare(name, expected[name], actual[name]);
            Assert.True(d.ShapesMatch && d.MaxRelDiff <= 1e-5, $"{relative}: '{name}' differs by {d.MaxRelDiff:E2}");
        }
    }

    /// <summary>
    /// Item 8 of issue 12 on every real graph: transformed (tf-deploy, or fold_old_batch_norms alone), written back to
    /// .pb, read again, lowered and run in ONNX Runtime, it gives the outputs of lowering the graph alone (≤ 1e-5).
    /// </summary>
    [SharedModelsTheory]
    [MemberData(nameof(Graphs))]
    public void TransformedWrittenBackAndLoweredGivesTheOutputsOfLoweringAlone(string relative, string cut, string shape, string outputShape, int transposes)
    {
        _ = (outputShape, transposes);
        using var alone = new OrtRunner(ModelProbes.ToOnnxBytes(Lower(relative, cut, shape)), what: "lowered");
        var inputs = RandomInputs.For(alone.Inputs, seed: 4);
        var expected = alone.Run(inputs);
        string dims = shape[(shape.IndexOf('=') + 1)..].Replace('x', ',');
        foreach (var transforms in new[] { $"tf-deploy{{shape={dims}}}", "fold_old_batch_norms" })
        {
            var module = Import(relative, cut);
            var pm = new PassManager { Services = TestRuntime.Services };
            pm.Passes.AddRange(transforms.StartsWith("tf-", StringComparison.Ordinal) ? PipelineRegistry.Build(transforms) : Mopt.Passes.Tf.GttTransforms.Build(transforms));
            pm.Run(module);
            using var dir = new TempDir();
            var pb = dir.File("transformed.pb");
            using (var stream = File.Create(pb)) Mopt.Backend.Tf.TfExporter.Write(module, stream, pb);
            var again = TfImporter.ImportFile(pb);
            Assert.DoesNotContain(again.AllOperations(), o => transforms == "fold_old_batch_norms" && o.Name.StartsWith("tf.FusedBatchNorm", StringComparison.Ordinal));
            var lowering = new PassManager { Services = TestRuntime.Services };
            lowering.Passes.Add(PassRegistry.Create("set-input-shape", shape));
            lowering.Passes.Add(PassRegistry.Create("convert-tf-to-onnx", null));
            lowering.Run(again);
            using var runner = new OrtRunner(ModelProbes.ToOnnxBytes(again), what: transforms);
            foreach (var name in alone.OutputNames)
            {
                var d = OutputDifference.Compare(name, expected[name], runner.Run(inputs)[name]);
                Assert.True(d.ShapesMatch && d.MaxRelDiff <= 1e-5, $"{relative} after {transforms}: '{name}' differs by {d.MaxRelDiff:E2}");
            }
        }
    }

    /// <summary>A cut input of unknown shape lowers too (SAME as auto_pad = SAME_UPPER): the same outputs as exact pads.</summary>
    [SharedModelsFact]
    public void UnknownInputShapeGivesTheSameOutputs()
    {
        var dynamicModule = Import("ml_kws_ds_cnn_s/DS_CNN_S.pb", "Reshape_1");
        var pm = new PassManager();
        pm.Passes.Add(new ConvertTfToOnnx());
        pm.Run(dynamicModule);
        Assert.Contains(dynamicModule.AllOperations(), o => o.Name == "onnx.Conv" && o.GetString("auto_pad") == "SAME_UPPER");
        using var dynamicRunner = new OrtRunner(ModelProbes.ToOnnxBytes(dynamicModule), what: "unknown shape");
        using var staticRunner = new OrtRunner(ModelProbes.ToOnnxBytes(Lower("ml_kws_ds_cnn_s/DS_CNN_S.pb", "Reshape_1", "Reshape_1=1x49x10x1")), what: "static shape");
        var inputs = RandomInputs.For(staticRunner.Inputs, seed: 3);
        var d = OutputDifference.Compare("labels_softmax", staticRunner.Run(inputs)["labels_softmax"], dynamicRunner.Run(inputs)["labels_softmax"]);
        Assert.True(d.ShapesMatch && d.MaxRelDiff <= 1e-5, $"differs by {d.MaxRelDiff:E2}");
    }

    /// <summary>nnstreamer's test: 9.raw as (x - 127.5) / 127.5, float [1, 784]; the answer is 9.</summary>
    [SharedModelsFact]
    public void MnistAnswersNine()
    {
        var module = Lower("nnstreamer_mnist/mnist.pb", "", "input=1x784");
        var pixels = File.ReadAllBytes(Path.Combine(TfModels, "nnstreamer_mnist", "9.raw"));
        Assert.Equal(784, pixels.Length);
        var input = pixels.Select(p => (float)((p - 127.5) / 127.5)).ToArray();
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()).ToArray();
        using var runner = new OrtRunner(ModelProbes.ToOnnxBytes(module), what: "mnist");
        var output = runner.Run(new Dictionary<string, NpyArray> { ["input"] = new(ElementType.F32, [1, 784], bytes) })["softmax"];
        var scores = RandomInputs.ToDoubles(output);
        Assert.Equal(9, Array.IndexOf(scores, scores.Max()));
    }
}
