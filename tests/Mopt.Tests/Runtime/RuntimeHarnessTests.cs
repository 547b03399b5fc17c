using Mopt.Backend.Runtime;
using Mopt.Ir;
using Mopt.Ir.Parsing;

namespace Mopt.Tests.Runtime;

public sealed class RuntimeHarnessTests
{
    private const string AddRelu = """
        module {
          func.func @main(%x: tensor<2x3xf32> {mo.name = "x"}) -> (tensor<2x3xf32> {mo.name = "y"}) {
            %c = "onnx.Constant"() {value = dense<[1.0, -2.0, 3.0]> : tensor<3xf32>} : () -> tensor<3xf32> loc("c")
            %0 = "onnx.Add"(%x, %c) {mo.outputs = ["sum"]} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32> loc("add")
            %1 = "onnx.Relu"(%0) {mo.outputs = ["y"]} : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("relu")
            return %1 : tensor<2x3xf32>
          }
        }
        """;

    private static NpyArray Floats(long[] shape, params float[] values) =>
        new(ElementType.F32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    [Fact]
    public void RunsAModuleAndReadsAnIntermediateTensor()
    {
        var module = MirReader.ParseText(AddRelu);
        using var runner = new OrtRunner(ModelProbes.WithOutputs(module, ["sum"]));
        var x = Floats([2, 3], 0, 0, 0, -5, 5, -5);
        var outputs = runner.Run(new Dictionary<string, NpyArray> { ["x"] = x }, ["y", "sum"]);
        Assert.Equal([1.0, -2.0, 3.0, -4.0, 3.0, -2.0], RandomInputs.ToDoubles(outputs["sum"]));
        Assert.Equal([1.0, 0.0, 3.0, 0.0, 3.0, 0.0], RandomInputs.ToDoubles(outputs["y"]));
    }

    [Fact]
    public void AskingForATensorNoNodeProducesIsAnError()
    {
        var module = MirReader.ParseText(AddRelu);
        var e = Assert.Throws<MirException>(() => ModelProbes.WithOutputs(module, ["nope"]));
        Assert.Contains("no tensor named 'nope'", e.Message);
    }

    [Fact]
    public void RandomInputsAreSeededAndShaped()
    {
        (string, ElementType, long[])[] inputs = [("a", ElementType.F32, [-1, 4]), ("b", ElementType.I64, [3])];
        var first = RandomInputs.For(inputs, seed: 7);
        var again = RandomInputs.For(inputs, seed: 7);
        var other = RandomInputs.For(inputs, seed: 8);
        Assert.Equal([1L, 4L], first["a"].Shape);
        Assert.Equal(first["a"].Data, again["a"].Data);
        Assert.NotEqual(first["a"].Data, other["a"].Data);
        Assert.All(RandomInputs.ToDoubles(first["b"]), v => Assert.InRange(v, 0, 3));
    }

    [Fact]
    public void NpyRoundTripsAndRejectsBadFiles()
    {
        var array = Floats([2, 2], 1.5f, -2, 0, 4);
        var parsed = NpyArray.Parse(array.ToBytes(), "a.npy");
        Assert.Equal(array.Shape, parsed.Shape);
        Assert.Equal(array.Data, parsed.Data);
        Assert.Equal(0, (array.ToBytes().Length - array.Data.Length) % 64); // header padded to 64 bytes, as NumPy does

        Assert.Contains("not a .npy file", Assert.Throws<MirException>(() => NpyArray.Parse([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], "x.npy")).Message);
        var cut = array.ToBytes()[..^4];
        Assert.Contains("needs 16", Assert.Throws<MirException>(() => NpyArray.Parse(cut, "cut.npy")).Message);
    }

    [Fact]
    public void ComparisonReportsDifferencesAndTop1()
    {
        var reference = Floats([2, 3], 0.1f, 0.7f, 0.2f, 0.5f, 0.4f, 0.1f);
        var same = OutputDifference.Compare("p", reference, reference);
        Assert.Equal(0, same.MaxAbsDiff);
        Assert.Equal(1.0, same.Top1Agreement);

        var flipped = Floats([2, 3], 0.1f, 0.7f, 0.2f, 0.3f, 0.6f, 0.1f);
        var diff = OutputDifference.Compare("p", reference, flipped);
        Assert.Equal(0.2, diff.MaxAbsDiff, 5);
        Assert.Equal(0.2 / 0.7, diff.MaxRelDiff, 5);
        Assert.Equal(0.5, diff.Top1Agreement);

        var reshaped = OutputDifference.Compare("p", reference, Floats([3, 2], 0, 0, 0, 0, 0, 0));
        Assert.False(reshaped.ShapesMatch);
    }
}
