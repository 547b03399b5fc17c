using Mopt.Backend.Runtime;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;
using Mopt.Passes;
using Mopt.Passes.Quantization;

namespace Mopt.Tests.Passes;

/// <summary>
/// OpsetUpgrade: the real models (opsets 8, 9, 10) raised to 13 and to 21 give the same outputs in ONNX Runtime
/// (≤ 1e-6 absolute); attributes that became inputs become constant inputs and the model still computes the same,
/// from opset 9 to 13 and from 13 to 21 (the Reduce* axes, Split's num_outputs, RoiAlign's old default, GridSample's
/// renamed modes); an operation whose meaning changed is refused with its name and the module is left exactly as it was.
/// </summary>
public sealed class OpsetUpgradeTests
{
    private static MirModule Import(string relative) =>
        OnnxImporter.ImportFile(Path.Combine(TestPaths.SharedModels, "onnx", relative));

    /// <summary>Upgrades the module to <paramref name="opset"/> and returns the largest absolute output difference in ORT.</summary>
    private static double UpgradeAndCompare(MirModule module, int opset)
    {
        var before = ModelProbes.ToOnnxBytes(module);
        long? oldIr = module.Op.GetInt("onnx.ir_version");
        Assert.True(OpsetUpgrade.TryUpgrade(module, opset, new PassContext(), out var whyNot), whyNot);
        Verifier.Verify(module);
        Assert.Equal(opset, OpsetUpgrade.CurrentOpset(module));
        var after = ModelProbes.ToOnnxBytes(module);
        var written = Mopt.Onnx.Proto.ModelProto.Parser.ParseFrom(after);
        Assert.Equal(opset, written.OpsetImport.Single(o => o.Domain.Length == 0).Version);
        long neededIr = opset switch { <= 11 => opset - 5, <= 14 => 7, <= 18 => 8, <= 20 => 9, _ => 10 };
        Assert.True(written.IrVersion >= neededIr, $"IR version {written.IrVersion} is too old for opset {opset}");
        // IR 3 listed every initializer as an input; from IR 4 that would make them inputs a caller could override.
        if (oldIr < 4) Assert.DoesNotContain(written.Graph.Input, i => written.Graph.Initializer.Any(t => t.Name == i.Name));

        using var original = new OrtRunner(before, what: "original");
        using var upgraded = new OrtRunner(after, what: "upgraded");
        var inputs = RandomInputs.For(original.Inputs, seed: 0);
        var expected = original.Run(inputs);
        var actual = upgraded.Run(inputs);
        return original.OutputNames.Max(n => OutputDifference.Compare(n, expected[n], actual[n]).MaxAbsDiff);
    }

    [SharedModelsTheory]
    [InlineData("connxr_mnist/model.onnx", 8)]
    [InlineData("ultraface_rfb_320/version-RFB-320.onnx", 9)]
    [InlineData("connxr_super_resolution/model.onnx", 10)]
    public void RealModelsRaisedToThirteenGiveTheSameOutputs(string relative, int opset)
    {
        var module = Import(relative);
        Assert.Equal(opset, OpsetUpgrade.CurrentOpset(module));
        double diff = UpgradeAndCompare(module, 13);
        Assert.True(diff <= 1e-6, $"{relative}: max abs diff {diff:E3} after the upgrade");
    }

    [SharedModelsTheory]
    [InlineData("connxr_mnist/model.onnx")]
    [InlineData("ultraface_rfb_320/version-RFB-320.onnx")]
    [InlineData("connxr_super_resolution/model.onnx")]
    public void RealModelsRaisedToTwentyOneGiveTheSameOutputs(string relative)
    {
        var module = Import(relative);
        double diff = UpgradeAndCompare(module, 21);
        Assert.True(diff <= 1e-6, $"{relative}: max abs diff {diff:E3} after the upgrade to 21");
        Assert.Equal(10L, module.Op.GetInt("onnx.ir_version"));
    }

    /// <summary>What changed between 13 and 21: Reduce* axes (18), Split's part count (18), RoiAlign's default (16), GridSample's mode names (20).</summary>
    private const string Opset13 = """
        module attributes {onnx.opset = 13 : i64, onnx.ir_version = 7 : i64} {
          func.func @main(%x: tensor<2x4x6x6xf32> {mo.name = "x"}, %rois: tensor<3x4xf32> {mo.name = "rois"}) -> (tensor<2x4x1x1xf32> {mo.name = "mean"}, tensor<2x6x6xf32> {mo.name = "max"}, tensor<2xf32> {mo.name = "l2"}, tensor<2x2x6x6xf32> {mo.name = "s0"}, tensor<2x2x6x6xf32> {mo.name = "s1"}, tensor<3x4x2x2xf32> {mo.name = "roi"}, tensor<2x4x6xf32> {mo.name = "sum"}) {
            %m = "onnx.ReduceMean"(%x) {axes = [2, 3]} : (tensor<2x4x6x6xf32>) -> tensor<2x4x1x1xf32> loc("reduce_mean")
            %n = "onnx.ReduceMax"(%x) {axes = [1], keepdims = 0 : i64} : (tensor<2x4x6x6xf32>) -> tensor<2x6x6xf32> loc("reduce_max")
            %l = "onnx.ReduceL2"(%x) {axes = [1, 2, 3], keepdims = 0 : i64} : (tensor<2x4x6x6xf32>) -> tensor<2xf32> loc("reduce_l2")
            %s:2 = "onnx.Split"(%x) {axis = 1 : i64} : (tensor<2x4x6x6xf32>) -> (tensor<2x2x6x6xf32>, tensor<2x2x6x6xf32>) loc("split")
            %i = "onnx.Constant"() {value = dense<[0, 1, 1]> : tensor<3xi64>} : () -> tensor<3xi64> loc("batch_indices")
            %r = "onnx.RoiAlign"(%x, %rois, %i) {output_height = 2 : i64, output_width = 2 : i64, sampling_ratio = 2 : i64} : (tensor<2x4x6x6xf32>, tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x4x2x2xf32> loc("roi_align")
            %a = "onnx.Constant"() {value = dense<3> : tensor<1xi64>} : () -> tensor<1xi64> loc("sum_axes")
            %u = "onnx.ReduceSum"(%x, %a) {keepdims = 0 : i64} : (tensor<2x4x6x6xf32>, tensor<1xi64>) -> tensor<2x4x6xf32> loc("reduce_sum")
            return %m, %n, %l, %s#0, %s#1, %r, %u : tensor<2x4x1x1xf32>, tensor<2x6x6xf32>, tensor<2xf32>, tensor<2x2x6x6xf32>, tensor<2x2x6x6xf32>, tensor<3x4x2x2xf32>, tensor<2x4x6xf32>
          }
        }
        """;

    /// <summary>GridSample exists from 16.</summary>
    private const string Opset16 = """
        module attributes {onnx.opset = 16 : i64, onnx.ir_version = 8 : i64} {
          func.func @main(%x: tensor<2x4x6x6xf32> {mo.name = "x"}, %grid: tensor<2x3x3x2xf32> {mo.name = "grid"}) -> (tensor<2x4x3x3xf32> {mo.name = "gs"}, tensor<2x4x3x3xf32> {mo.name = "gc"}, tensor<2x4x3x3xf32> {mo.name = "gn"}) {
            %g = "onnx.GridSample"(%x, %grid) : (tensor<2x4x6x6xf32>, tensor<2x3x3x2xf32>) -> tensor<2x4x3x3xf32> loc("grid_sample")
            %c = "onnx.GridSample"(%x, %grid) {mode = "bicubic", align_corners = 1 : i64} : (tensor<2x4x6x6xf32>, tensor<2x3x3x2xf32>) -> tensor<2x4x3x3xf32> loc("grid_sample_cubic")
            %n = "onnx.GridSample"(%x, %grid) {mode = "bilinear", padding_mode = "border"} : (tensor<2x4x6x6xf32>, tensor<2x3x3x2xf32>) -> tensor<2x4x3x3xf32> loc("grid_sample_bilinear")
            return %g, %c, %n : tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>
          }
        }
        """;

    [Fact]
    public void FromThirteenToTwentyOneWhatChangedIsRewrittenAndComputesTheSame()
    {
        var module = MirReader.ParseText(Opset13, "opset13.mir");
        double diff = UpgradeAndCompare(module, 21);
        Assert.True(diff <= 1e-5, $"max abs diff {diff:E3}");

        var ops = module.AllOperations().Where(o => o.Location.FirstName is not null).ToDictionary(o => o.Location.FirstName!);
        foreach (var name in new[] { "reduce_mean", "reduce_max", "reduce_l2" })
        {
            Assert.Equal(2, ops[name].OperandCount);
            Assert.Null(ops[name].GetAttr("axes"));
        }
        Assert.Equal(2, ops["reduce_sum"].OperandCount); // already an input at 13: left as it is
        Assert.Equal(2L, ops["split"].GetInt("num_outputs"));
        Assert.Equal("output_half_pixel", ((StringAttr)ops["roi_align"].GetAttr("coordinate_transformation_mode")!).Value);
    }

    [Fact]
    public void GridSampleModesAreRenamedAtTwenty()
    {
        var module = MirReader.ParseText(Opset16, "opset16.mir");
        double diff = UpgradeAndCompare(module, 21);
        Assert.True(diff <= 1e-5, $"max abs diff {diff:E3}");
        var ops = module.AllOperations().Where(o => o.Location.FirstName is not null).ToDictionary(o => o.Location.FirstName!);
        Assert.Null(ops["grid_sample"].GetAttr("mode")); // the default was bilinear and is linear: the same
        Assert.Equal("cubic", ((StringAttr)ops["grid_sample_cubic"].GetAttr("mode")!).Value);
        Assert.Equal("linear", ((StringAttr)ops["grid_sample_bilinear"].GetAttr("mode")!).Value);
    }

    private const string Shapes = """
        module attributes {onnx.opset = 9 : i64, onnx.opset_import = {ai.onnx = 9 : i64}} {
          func.func @main(%x: tensor<2x3x4xf32> {mo.name = "x"}) -> (tensor<2x1x3x6xf32> {mo.name = "a"}, tensor<2x3xf32> {mo.name = "b"}, tensor<2x2x4xf32> {mo.name = "c"}, tensor<2x1x4xf32> {mo.name = "d"}, tensor<2x3x3xf32> {mo.name = "e"}, tensor<2x3x4xf32> {mo.name = "f"}, tensor<2x3x4xf32> {mo.name = "g"}) {
            %p = "onnx.Pad"(%x) {mode = "constant", pads = [0, 0, 1, 0, 0, 1], value = 0.5 : f32} : (tensor<2x3x4xf32>) -> tensor<2x3x6xf32> loc("pad")
            %u = "onnx.Unsqueeze"(%p) {axes = [1]} : (tensor<2x3x6xf32>) -> tensor<2x1x3x6xf32> loc("unsqueeze")
            %r = "onnx.ReduceSum"(%x) {axes = [2], keepdims = 0 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3xf32> loc("reducesum")
            %s:2 = "onnx.Split"(%x) {axis = 1 : i64, split = [2, 1]} : (tensor<2x3x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x1x4xf32>) loc("split")
            %c = "onnx.Clip"(%s#0) {min = -0.25 : f32, max = 0.5 : f32} : (tensor<2x2x4xf32>) -> tensor<2x2x4xf32> loc("clip")
            %q = "onnx.Squeeze"(%s#1) {axes = [1]} : (tensor<2x1x4xf32>) -> tensor<2x4xf32> loc("squeeze")
            %v = "onnx.Unsqueeze"(%q) {axes = [1]} : (tensor<2x4xf32>) -> tensor<2x1x4xf32> loc("unsqueeze2")
            %l = "onnx.Slice"(%x) {starts = [1], ends = [100], axes = [2]} : (tensor<2x3x4xf32>) -> tensor<2x3x3xf32> loc("slice")
            %m = "onnx.Softmax"(%x) {axis = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32> loc("softmax")
            %k = "onnx.Clip"(%x) {max = 0.1 : f32} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32> loc("clip_max_only")
            return %u, %r, %c, %v, %l, %m, %k : tensor<2x1x3x6xf32>, tensor<2x3xf32>, tensor<2x2x4xf32>, tensor<2x1x4xf32>, tensor<2x3x3xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>
          }
        }
        """;

    [Fact]
    public void AttributesThatBecameInputsBecomeConstantsAndComputeTheSame()
    {
        var module = MirReader.ParseText(Shapes, "shapes.mir");
        double diff = UpgradeAndCompare(module, 13);
        Assert.True(diff <= 1e-6, $"max abs diff {diff:E3}");

        var ops = module.AllOperations().ToDictionary(o => o.Location.FirstName ?? o.Name + o.GetHashCode());
        Assert.Equal(3, ops["pad"].OperandCount); // data, pads, value
        Assert.Null(ops["pad"].GetAttr("pads"));
        Assert.Equal(2, ops["unsqueeze"].OperandCount);
        Assert.Equal(2, ops["reducesum"].OperandCount);
        Assert.Equal(2, ops["split"].OperandCount);
        Assert.Equal(3, ops["clip"].OperandCount);
        Assert.Equal("onnx.NoValue", ((OpResult)ops["clip_max_only"].GetOperand(1)).Owner.Name);
        Assert.Equal(4, ops["slice"].OperandCount);
        Assert.Equal(2L, ops["softmax"].GetInt("axis"));
        var imports = (DictionaryAttr)module.Op.GetAttr("onnx.opset_import")!;
        Assert.Equal(13L, ((IntegerAttr)imports.Get("ai.onnx")!).Value);
    }

    [Fact]
    public void PerTensorTargetOnlyRewritesWhatChangedUpToIt()
    {
        var module = MirReader.ParseText(Shapes, "shapes.mir");
        double diff = UpgradeAndCompare(module, 10);
        Assert.True(diff <= 1e-6, $"max abs diff {diff:E3}");
        var ops = module.AllOperations().Where(o => o.Location.FirstName is not null).ToDictionary(o => o.Location.FirstName!);
        Assert.Equal(4, ops["slice"].OperandCount); // Slice changed at 10
        Assert.Equal(1, ops["unsqueeze"].OperandCount); // Unsqueeze only at 13
        Assert.Equal(1, ops["pad"].OperandCount); // Pad only at 11
    }

    [Theory]
    [InlineData("\"onnx.Softmax\"(%x) {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>", "Softmax 'op'")]
    [InlineData("\"onnx.LogSoftmax\"(%x) : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>", "LogSoftmax 'op'")]
    [InlineData("\"onnx.Upsample\"(%x) {scales = [1.0 : f32, 1.0 : f32, 2.0 : f32]} : (tensor<2x3x4xf32>) -> tensor<2x3x8xf32>", "Upsample is deprecated")]
    [InlineData("\"onnx.BatchNormalization\"(%x, %x, %x, %x, %x) {spatial = 0 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>", "spatial = 0")]
    [InlineData("\"onnx.FancyNewOp\"(%x) : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>", "does not know whether FancyNewOp changed")]
    [InlineData("\"tf.Relu\"(%x) : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>", "the tf dialect is not ONNX")]
    [InlineData("\"mo.Something\"(%x) : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>", "the mo dialect")]
    public void ChangedMeaningIsRefusedWithTheOpsNameAndNothingChanges(string op, string reason) => AssertRefused(op, reason, 8, 13);

    [Theory]
    [InlineData("\"onnx.GroupNormalization\"(%x, %x, %x) {num_groups = 2 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>", "GroupNormalization 'op': its scale and bias went from one value per group to one per channel")]
    [InlineData("\"onnx.DFT\"(%x) : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>", "DFT 'op': its axis became an input")]
    [InlineData("%o:2 = \"onnx.BatchNormalization\"(%x, %x, %x, %x, %x) : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>)", "training outputs")]
    public void ChangedMeaningUpToTwentyOneIsRefused(string op, string reason) => AssertRefused(op, reason, 13, 21);

    private static void AssertRefused(string op, string reason, int from, int to)
    {
        var text = $$"""
            module attributes {onnx.opset = {{from}} : i64} {
              func.func @main(%x: tensor<2x3x4xf32> {mo.name = "x"}) -> (tensor<2x3x4xf32> {mo.name = "y"}) {
                %s = "onnx.Squeeze"(%x) {axes = [0]} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32> loc("squeeze")
                {{(op.StartsWith('%') ? op : "%o = " + op)}} loc("op")
                return %s : tensor<2x3x4xf32>
              }
            }
            """;
        var module = MirReader.ParseText(text, "refuse.mir");
        var before = MirPrinter.PrintToString(module);
        Assert.False(OpsetUpgrade.TryUpgrade(module, to, new PassContext(), out var whyNot));
        Assert.Contains(reason, whyNot);
        Assert.Contains($"cannot raise opset {from} to {to}", whyNot);
        Assert.Equal(before, MirPrinter.PrintToString(module));
    }

    [Fact]
    public void SoftmaxOverTheLastAxisWithTrailingOnesIsKept()
    {
        var module = MirReader.ParseText("""
            module attributes {onnx.opset = 11 : i64} {
              func.func @main(%x: tensor<2x5x1x1xf32> {mo.name = "x"}) -> (tensor<2x5x1x1xf32> {mo.name = "y"}) {
                %s = "onnx.Softmax"(%x) : (tensor<2x5x1x1xf32>) -> tensor<2x5x1x1xf32> loc("softmax")
                return %s : tensor<2x5x1x1xf32>
              }
            }
            """, "softmax.mir");
        double diff = UpgradeAndCompare(module, 13);
        Assert.True(diff <= 1e-6, $"max abs diff {diff:E3}");
        Assert.Equal(1L, module.AllOperations().Single(o => o.Name == "onnx.Softmax").GetInt("axis"));
    }

    [Fact]
    public void AlreadyNewEnoughAndBeyondTwentyOne()
    {
        var module = MirReader.ParseText("""
            module attributes {onnx.opset = 11 : i64} {
              func.func @main(%x: tensor<2xf32> {mo.name = "x"}) -> (tensor<2xf32> {mo.name = "y"}) {
                return %x : tensor<2xf32>
              }
            }
            """, "ok.mir");
        Assert.True(OpsetUpgrade.TryUpgrade(module, 10, new PassContext(), out var none));
        Assert.Null(none);
        Assert.Equal(11, OpsetUpgrade.CurrentOpset(module));
        Assert.False(OpsetUpgrade.TryUpgrade(module, 22, new PassContext(), out var why));
        Assert.Contains("only up to 21", why);
        Assert.Equal(11, OpsetUpgrade.CurrentOpset(module));
    }

    [Fact]
    public void OperationsInsideSubgraphsAreUpgradedToo()
    {
        var module = MirReader.ParseText("""
            module attributes {onnx.opset = 11 : i64} {
              func.func @main(%c: tensor<i1> {mo.name = "c"}, %x: tensor<3xf32> {mo.name = "x"}) -> (tensor<1x3xf32> {mo.name = "y"}) {
                %y = "onnx.If"(%c) ({
                  %a = "onnx.Unsqueeze"(%x) {axes = [0]} : (tensor<3xf32>) -> tensor<1x3xf32> loc("then_unsqueeze")
                  "mo.yield"(%a) {mo.names = ["a"]} : (tensor<1x3xf32>) -> ()
                }, {
                  %n = "onnx.Neg"(%x) : (tensor<3xf32>) -> tensor<3xf32> loc("else_neg")
                  %b = "onnx.Unsqueeze"(%n) {axes = [0]} : (tensor<3xf32>) -> tensor<1x3xf32> loc("else_unsqueeze")
                  "mo.yield"(%b) {mo.names = ["b"]} : (tensor<1x3xf32>) -> ()
                }) {mo.regions = ["then_branch", "else_branch"]} : (tensor<i1>) -> tensor<1x3xf32> loc("if")
                return %y : tensor<1x3xf32>
              }
            }
            """, "if.mir");
        double diff = UpgradeAndCompare(module, 13);
        Assert.True(diff <= 1e-6, $"max abs diff {diff:E3}");
        Assert.All(module.AllOperations().Where(o => o.Name == "onnx.Unsqueeze"), u => Assert.Equal(2, u.OperandCount));
    }
}
