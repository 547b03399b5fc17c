using Mopt.Backend.Runtime;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;
using Mopt.Passes;
using Mopt.Passes.Quantization;

namespace Mopt.Tests.Passes;

/// <summary>
/// OpsetUpgrade: the real models (opsets 8, 9, 10) raised to 13 give the same outputs in ONNX Runtime (≤ 1e-6
/// absolute); attributes that became inputs become constant inputs and the model still computes the same; an
/// operation whose meaning changed is refused with its name and the module is left exactly as it was.
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
        Assert.True(written.IrVersion >= (opset >= 12 ? 7 : opset - 5), $"IR version {written.IrVersion} is too old for opset {opset}");
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
    public void ChangedMeaningIsRefusedWithTheOpsNameAndNothingChanges(string op, string reason)
    {
        var text = $$"""
            module attributes {onnx.opset = 8 : i64} {
              func.func @main(%x: tensor<2x3x4xf32> {mo.name = "x"}) -> (tensor<2x3x4xf32> {mo.name = "y"}) {
                %s = "onnx.Squeeze"(%x) {axes = [0]} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32> loc("squeeze")
                %o = {{op}} loc("op")
                return %s : tensor<2x3x4xf32>
              }
            }
            """;
        var module = MirReader.ParseText(text, "refuse.mir");
        var before = MirPrinter.PrintToString(module);
        Assert.False(OpsetUpgrade.TryUpgrade(module, 13, new PassContext(), out var whyNot));
        Assert.Contains(reason, whyNot);
        Assert.Contains("cannot raise opset 8 to 13", whyNot);
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
    public void AlreadyNewEnoughAndBeyondThirteen()
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
        Assert.False(OpsetUpgrade.TryUpgrade(module, 19, new PassContext(), out var why));
        Assert.Contains("only up to 13", why);
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
