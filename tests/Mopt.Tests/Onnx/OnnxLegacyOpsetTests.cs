using Google.Protobuf;
using Mopt.Backend.Runtime;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Onnx.Proto;
using Mopt.Passes;
using Mopt.Passes.Quantization;
using Mopt.Tests.Numeric;
using static Mopt.Tests.Onnx.OnnxTestSupport;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Tests.Onnx;

/// <summary>
/// Old opsets (1 to 12): read by default, their meaning kept by the passes (OnnxLegacy), raised only when asked (the
/// version converter checked against the meaning the old opset defines, computed here or taken from the ONNX backend
/// test suite's expected outputs), and string initializers held and written back.
/// </summary>
public sealed class OnnxLegacyOpsetTests
{
    private static float[] Floats(byte[] bytes) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan()).ToArray();

    /// <summary>Opset 5 (consumed_inputs, dropped at 6): B aligned at axis 1, C at the last axis (no axis), E at axis 0; y = (x + B[j]) * C[k] - E[i].</summary>
    private static ModelProto LegacyBroadcastModel() => Model(Graph("legacy_broadcast",
        [
            Node("Add", ["x", "b"], ["t"], "add_axis1", "", IntAttr("broadcast", 1), IntAttr("axis", 1), IntsAttr("consumed_inputs", 0, 0)),
            Node("Mul", ["t", "c"], ["u"], "mul_suffix", "", IntAttr("broadcast", 1)),
            Node("Sub", ["u", "e"], ["y"], "sub_axis0", "", IntAttr("broadcast", 1), IntAttr("axis", 0)),
        ],
        [Vi("x", DataType.Float, 2, 3, 4)], [Vi("y", DataType.Float, 2, 3, 4)],
        [FloatTensor("b", [3], 1, 2, 3), FloatTensor("c", [4], 10, 20, 30, 40), FloatTensor("e", [2], 100, 200)]), opset: 5, irVersion: 3);

    [Fact]
    public void OpsetOneToSixIsReadByDefault()
    {
        var module = Import(LegacyBroadcastModel());
        Assert.Equal(5L, module.Op.GetInt("onnx.opset"));
        Assert.Equal(1, new OnnxImportOptions().MinOpset);
    }

    [Fact]
    public void LegacyBroadcastRaisedToSevenComputesWhatOpsetSixDefines()
    {
        var module = Import(LegacyBroadcastModel());
        var context = new PassContext();
        Assert.True(OpsetUpgrade.TryUpgrade(module, 7, context, out var whyNot), whyNot);
        Verifier.Verify(module);
        Assert.Equal(7, OpsetUpgrade.CurrentOpset(module));
        Assert.DoesNotContain(module.AllOperations(), o => o.GetAttr("broadcast") is not null || o.GetAttr("axis") is not null || o.GetAttr("consumed_inputs") is not null);
        // B and E are reshaped to [3, 1] and [2, 1, 1]; C already lines up with the last axis.
        Assert.Equal(2, Numerics.Count(module, "onnx.Reshape"));

        var x = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("up.onnx"), ModelProbes.ToOnnxBytes(module));
        var y = Floats(Run(tmp.File("up.onnx"), [("x", HostTensor.Floats([2, 3, 4], x))]).Single().Value.Bytes);
        float[] b = [1, 2, 3], c = [10, 20, 30, 40], e = [100, 200];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++)
                    Assert.Equal((x[i * 12 + j * 4 + k] + b[j]) * c[k] - e[i], y[i * 12 + j * 4 + k]);
    }

    [Fact]
    public void TrainingModeBatchNormOfOpsetSixIsNotRaisedAndNothingChanges()
    {
        var model = Model(Graph("bn6",
            [Node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], "bn_train", "", IntsAttr("consumed_inputs", 0, 0, 0, 1, 1))],
            [Vi("x", DataType.Float, 1, 2, 2, 2)], [Vi("y", DataType.Float, 1, 2, 2, 2)],
            [FloatTensor("s", [2], 1, 1), FloatTensor("b", [2], 0, 0), FloatTensor("m", [2], 0, 0), FloatTensor("v", [2], 1, 1)]), opset: 6, irVersion: 3);
        var module = Import(model);
        var before = Mir.Print(module);
        Assert.False(OpsetUpgrade.TryUpgrade(module, 13, new PassContext(), out var whyNot));
        Assert.Contains("BatchNormalization 'bn_train': without is_test = 1 it is in training mode", whyNot);
        Assert.Equal(before, Mir.Print(module));
    }

    /// <summary>Opset 8: Conv then BatchNormalization with spatial = 1 (folded) and spatial = 0 (left: statistics per element).</summary>
    [Fact]
    public void FoldBnOnOpsetEightSpatialAttributeMatchesOnnxRuntime()
    {
        var model = Model(Graph("bn8",
            [
                Node("Conv", ["x", "w"], ["c"], "conv"),
                Node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], "bn_spatial", "", IntAttr("spatial", 1), FloatAttr("epsilon", 1e-3f)),
                Node("Conv", ["x", "w"], ["c2"], "conv2"),
                Node("BatchNormalization", ["c2", "s2", "b2", "m2", "v2"], ["y2"], "bn_per_element", "", IntAttr("spatial", 0)),
            ],
            [Vi("x", DataType.Float, 1, 2, 3, 3)], [Vi("y", DataType.Float, 1, 2, 3, 3), Vi("y2", DataType.Float, 1, 2, 3, 3)],
            [
                FloatTensor("w", [2, 2, 1, 1], 0.5f, -1, 2, 0.25f), FloatTensor("s", [2], 2, 3), FloatTensor("b", [2], 0.5f, -0.5f),
                FloatTensor("m", [2], 0.1f, 0.2f), FloatTensor("v", [2], 4, 0.5f),
                FloatTensor("s2", [2, 3, 3], Enumerable.Range(1, 18).Select(i => i * 0.1f).ToArray()),
                FloatTensor("b2", [2, 3, 3], new float[18]), FloatTensor("m2", [2, 3, 3], new float[18]),
                FloatTensor("v2", [2, 3, 3], Enumerable.Repeat(1f, 18).ToArray()),
            ]), opset: 8, irVersion: 4);
        var module = Import(model);
        var r = Numerics.AssertPreserves(module, "fold-bn,dce");
        var left = r.After.AllOperations().Where(o => o.Name == "onnx.BatchNormalization").ToList();
        Assert.Equal("bn_per_element", Assert.Single(left).Location.FirstName);
        Assert.Contains(r.Runs.Single(run => run.Pass.Name == "fold-bn").Context.Skips, s => s.Contains("spatial = 0"));
    }

    /// <summary>Opset 4: Reshape with its shape as an attribute and Concat read as what they mean: deploy keeps the outputs and the opset.</summary>
    [Fact]
    public void DeployOnOpsetFourKeepsTheOpsetAndTheOutputs()
    {
        var model = Model(Graph("old_forms",
            [
                Node("Reshape", ["x"], ["r"], "reshape", "", IntsAttr("shape", 3, 4)),
                Node("Concat", ["r", "k"], ["y"], "concat", "", IntAttr("axis", 1)),
            ],
            [Vi("x", DataType.Float, 2, 6)], [Vi("y", DataType.Float, 3, 6)],
            [FloatTensor("k", [3, 2], 1, 2, 3, 4, 5, 6)]), opset: 4, irVersion: 3);
        var module = Import(model);
        var r = Numerics.AssertPreserves(module, string.Join(",", PipelineRegistry.DeployPasses));
        Assert.Equal(4L, r.After.Op.GetInt("onnx.opset"));
    }

    [Fact]
    public void StringInitializersAreHeldAndWrittenBack()
    {
        var strings = new TensorProto { Name = "words", DataType = (int)DataType.String, Dims = { 3 } };
        foreach (var s in new[] { "alpha", "", "γάμμα" }) strings.StringData.Add(ByteString.CopyFromUtf8(s));
        var model = Model(Graph("strings",
            [Node("Identity", ["words"], ["y"], "id")],
            [], [Vi("y", DataType.String, 3)], [strings]), opset: 13);
        using var tmp = new TempDir();
        Save(model, tmp.File("in.onnx"));
        var text = RoundTrip(tmp.File("in.onnx"), tmp.File("out.onnx")); // through .mir
        Assert.Contains("onnx.string_initializer", text);
        var written = Load(tmp.File("out.onnx")).Graph.Initializer.Single();
        Assert.Equal("words", written.Name);
        Assert.Equal(strings.StringData, written.StringData);
        Assert.Equal(strings.Dims, written.Dims);
        using var session = Session(tmp.File("out.onnx")); // ONNX Runtime loads it

        strings.StringData.RemoveAt(2);
        Save(model, tmp.File("short.onnx"));
        var e = Assert.Throws<MirException>(() => OnnxImporter.ImportFile(tmp.File("short.onnx")));
        Assert.Contains("initializer 'words' has 2 strings but its shape needs 3", e.Message);
    }

    // ------------------------------------------------------------------ the ONNX backend test suite

    /// <summary>
    /// Tests of opsets 1 and 6 of the ONNX backend suite, several of which ONNX Runtime cannot run as they are
    /// (it has no Add-6, PRelu-6 or BatchNormalization-6 kernel): raised to opset 7 by mopt they give the suite's
    /// expected outputs, so the converter keeps what the old opset defines (legacy broadcasting, is_test, PRelu's slope).
    /// </summary>
    [ConformanceDataTheory]
    [InlineData("pytorch-operator/test_operator_add_broadcast")]
    [InlineData("pytorch-operator/test_operator_add_size1_broadcast")]
    [InlineData("pytorch-operator/test_operator_add_size1_right_broadcast")]
    [InlineData("pytorch-operator/test_operator_addmm")]
    [InlineData("pytorch-operator/test_operator_pow")]
    [InlineData("pytorch-converted/test_BatchNorm2d_eval")]
    [InlineData("pytorch-converted/test_BatchNorm3d_momentum_eval")]
    [InlineData("pytorch-converted/test_Linear")]
    [InlineData("pytorch-converted/test_PReLU_2d")]
    [InlineData("pytorch-converted/test_Softsign")]
    [InlineData("pytorch-converted/test_GLU")]
    [InlineData("pytorch-converted/test_log_softmax_dim3")]
    public void OldSuiteTestsRaisedToSevenGiveTheExpectedOutputs(string test)
    {
        var dir = Path.Combine(ConformanceData.Root, test);
        var module = OnnxImporter.ImportFile(Path.Combine(dir, "model.onnx"));
        Assert.True(OnnxOpsetOf(module) < 7, $"{test} is of opset {OnnxOpsetOf(module)}");
        Assert.True(OpsetUpgrade.TryUpgrade(module, 7, new PassContext(), out var whyNot), whyNot);
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("up.onnx"), ModelProbes.ToOnnxBytes(module));
        foreach (var set in Directory.GetDirectories(dir, "test_data_set_*"))
        {
            var actual = Run(tmp.File("up.onnx"), TestInputs(Path.Combine(dir, "model.onnx"), set));
            for (int i = 0; i < actual.Count; i++)
            {
                var expected = HostTensor.FromProto(OnnxTensorReader.ParseTensorFile(Path.Combine(set, $"output_{i}.pb")));
                var a = Floats(actual[i].Value.Bytes);
                var b = Floats(expected.Bytes);
                Assert.Equal(b.Length, a.Length);
                for (int k = 0; k < a.Length; k++)
                    Assert.True(float.IsNaN(a[k]) && float.IsNaN(b[k]) || Math.Abs(a[k] - b[k]) <= 1e-7 + 1e-3 * Math.Abs(b[k]), $"{test}: output {i} element {k}: {a[k]} vs {b[k]}");
            }
        }
    }

    private static long OnnxOpsetOf(MirModule module) => module.Op.GetInt("onnx.opset") ?? 0;
}
