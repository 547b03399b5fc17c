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

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void SortingABlockInDataFlowOrderGivesTheRankOrderStableAmongEqualRanks(int seed)
    {
        // A random block whose producers all come before their users (the sort's one-pass case): constants and ops on
        // the argument anywhere, each op reading two earlier values.
        var random = new Random(seed);
        var text = new System.Text.StringBuilder("module {\n  func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {\n");
        var values = new List<string> { "%x" };
        for (int i = 0; i < 60; i++)
        {
            if (random.Next(4) == 0)
                text.Append($"    %v{i} = \"onnx.Constant\"() {{value = dense<{i}.0> : tensor<2xf32>}} : () -> tensor<2xf32> loc(\"op{i}\")\n");
            else
                text.Append($"    %v{i} = \"onnx.Add\"({values[random.Next(values.Count)]}, {values[random.Next(values.Count)]}) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc(\"op{i}\")\n");
            values.Add($"%v{i}");
        }
        text.Append("    return %v59 : tensor<2xf32>\n  }\n}\n");
        var module = MirReader.ParseText(text.ToString());
        var before = module.MainFunction.Body.Operations.ToList();

        var pm = new PassManager { VerifyEach = true };
        pm.Passes.Add(new SortByExecutionOrder());
        pm.Run(module);
        before.RemoveAll(op => op.Parent is null); // the unused constants, which the pass manager's sweep erased

        // Kahn's levels: rank 0 for an op reading nothing of the block, else 1 + its producers' highest rank; the
        // sorted block lists the ranks in order, each rank's ops in their original order, the return last.
        var after = module.MainFunction.Body.Operations;
        Assert.Equal(before.Count, after.Count);
        Assert.Equal(FuncOp.ReturnOpName, after[^1].Name);
        var rank = new Dictionary<Operation, int>();
        foreach (var op in before.Take(before.Count - 1))
            rank[op] = op.Operands.OfType<OpResult>().Select(r => rank[r.Owner] + 1).DefaultIfEmpty(0).Max();
        var expected = before.Take(before.Count - 1).Select((op, i) => (op, i)).OrderBy(e => rank[e.op]).ThenBy(e => e.i).Select(e => e.op);
        Assert.Equal(expected, after.Take(after.Count - 1));
        Assert.NotEqual(before, after.ToList()); // the random block was not in rank order: the sort had work to do
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
