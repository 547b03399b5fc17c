using Mopt.Backend.Runtime;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Passes;
using Mopt.Tests.Numeric;

namespace Mopt.Tests.Passes;

public sealed class GraphPassTests
{
    private static MirModule Example() => MirReader.ParseFile(Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir"));

    [Fact]
    public void SortingKeepsTheModelExactAndEveryProducerBeforeItsUsers()
    {
        var module = Example();
        // Scramble: move every constant to just before the return, so the block is not in execution order.
        var body = module.MainFunction.Body;
        var constants = body.Operations.Where(o => o.Name == "onnx.Constant").ToList();
        var rest = body.Operations.Where(o => o.Name != "onnx.Constant").ToList();
        var scrambled = rest.Take(rest.Count - 1).Concat(constants).Append(rest[^1]).ToList();
        body.Reorder(scrambled);
        Assert.NotEmpty(Verifier.Check(module)); // producers after users: not a valid order

        var pm = new PassManager { VerifyEach = true };
        pm.Passes.Add(new SortByExecutionOrder());
        pm.Run(module);
        Assert.Empty(Verifier.Check(module));
        Assert.Equal(FuncOp.ReturnOpName, body.Operations[^1].Name);
        Numerics.AssertPreserves(Example(), "sort-by-execution-order", tolerance: 0);
    }

    [Fact]
    public void StripUnusedKeepsTheNamedOutputExact()
    {
        const string text = """
            module {
              func.func @main(%img: tensor<2x4xf32> {mo.name = "image"}, %mask: tensor<2x4xf32> {mo.name = "mask"}) -> (tensor<2x4xf32> {mo.name = "logits"}, tensor<2x4xf32> {mo.name = "aux"}) {
                %h = "onnx.Relu"(%img) {mo.outputs = ["hidden"]} : (tensor<2x4xf32>) -> tensor<2x4xf32> loc("relu")
                %y = "onnx.Sigmoid"(%h) {mo.outputs = ["logits"]} : (tensor<2x4xf32>) -> tensor<2x4xf32> loc("sigmoid")
                %m = "onnx.Mul"(%h, %mask) {mo.outputs = ["aux"]} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32> loc("aux_mul")
                return %y, %m : tensor<2x4xf32>, tensor<2x4xf32>
              }
            }
            """;
        var original = MirReader.ParseText(text);
        var stripped = MirReader.ParseText(text);
        var pm = new PassManager();
        pm.Passes.Add(PassRegistry.Create("strip-unused", "inputs=image outputs=logits"));
        pm.Run(stripped);
        var func = stripped.MainFunction;
        Assert.Single(func.Arguments);
        Assert.Equal("image", func.ArgName(0));
        Assert.Equal("logits", func.ResultName(0));

        using var a = new OrtRunner(ModelProbes.ToOnnxBytes(original));
        using var b = new OrtRunner(ModelProbes.ToOnnxBytes(stripped));
        var inputs = RandomInputs.For(a.Inputs, seed: 3);
        var expected = a.Run(inputs)["logits"];
        var actual = b.Run(new Dictionary<string, NpyArray> { ["image"] = inputs["image"] })["logits"];
        Assert.Equal(expected.Data, actual.Data);
    }
}

public sealed class SetInputShapeTests
{
    [Fact]
    public void FixingTheBatchKeepsOutputsExactAndMakesShapesStatic()
    {
        const string text = """
            module {
              func.func @main(%x: tensor<?x3x8x8xf32> {mo.name = "input"}) -> (tensor<?x4xf32> {mo.name = "y"}) {
                %w = "onnx.Constant"() {value = dense<0.25> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32> loc("w")
                %c = "onnx.Conv"(%x, %w) {pads = [1, 1, 1, 1]} : (tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32> loc("conv")
                %g = "onnx.GlobalAveragePool"(%c) : (tensor<*xf32>) -> tensor<*xf32> loc("gap")
                %f = "onnx.Flatten"(%g) {axis = 1 : i64} : (tensor<*xf32>) -> tensor<?x4xf32> loc("flatten")
                return %f : tensor<?x4xf32>
              }
            }
            """;
        var result = Numerics.AssertPreserves(text, "set-input-shape{input=1x3x8x8}", tolerance: 0);
        var func = result.After.MainFunction;
        Assert.Equal("tensor<1x3x8x8xf32>", func.Arguments[0].Type.Text);
        Assert.Equal("tensor<1x4xf32>", func.Type.Results[0].Text);
        Assert.All(result.After.AllOperations().SelectMany(o => o.Results), r => Assert.True(((TensorType)r.Type).HasStaticShape, r.Type.Text));
    }
}
