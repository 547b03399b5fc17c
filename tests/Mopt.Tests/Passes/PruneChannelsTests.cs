using Mopt.Ir;
using Mopt.Passes;
using Mopt.Tests.Numeric;
using static Mopt.Tests.Passes.TestNet;

namespace Mopt.Tests.Passes;

/// <summary>
/// --prune-channels on a hand-built conv1 → (BN) → Relu → conv2 → Relu → Flatten → Gemm whose low-ranked channels are
/// all zeros, so the pruned model must give the original's outputs in ONNX Runtime, and the exact channels removed
/// can be checked for each criterion.
/// </summary>
public sealed class PruneChannelsTests
{
    // conv1 (1x1, 2 inputs): channel 0 = (3, 1), 1 = (0, 0), 2 = (-3, 2), 3 = (0, 0).
    // l1: 4, 0, 5, 0; geometry median: 12.4, 6.8, 13.3, 6.8; bn |gamma|: 1.5, 0, 2, 0. Channels 1 and 3 rank lowest.
    private static readonly float[] W1 = [3, 1, 0, 0, -3, 2, 0, 0];

    private static MirModule Net(bool withBn, int seed = 1)
    {
        var n = new TestNet(seed, ("x", [1, 2, 3, 3]));
        var c1 = n.Op("Conv", "conv1", [n[0], n.Const("conv1.weight", [4, 2, 1, 1], i => W1[i]), n.Const("conv1.bias", [4], i => new[] { 0.5, 0, -0.25, 0 }[i])],
            [1, 4, 3, 3], Ints("kernel_shape", 1, 1));
        var y = c1;
        if (withBn)
            y = n.Op("BatchNormalization", "bn1", [c1, n.Const("bn1.scale", [4], i => new[] { 1.5, 0, -2, 0 }[i]), n.Const("bn1.B", [4], i => new[] { 0.1, 0, 0.2, 0 }[i]),
                n.Const("bn1.mean", [4], i => new[] { 0.3, 0, -0.1, 0 }[i]), n.Const("bn1.var", [4], i => new[] { 1, 1, 2, 1.0 }[i])], [1, 4, 3, 3], Float("epsilon", 1e-5));
        var r1 = n.Op("Relu", "relu1", [y], [1, 4, 3, 3]);
        // conv2's output channel 2 is all zeros (weight and bias), so pruning conv2 by l1 at 1/3 keeps the outputs too.
        var w2 = n.Random("conv2.weight", [3, 4, 3, 3]);
        var w2Values = Mopt.Dialects.Onnx.Constants.TryGet(w2, n.Module)!.ToFloats();
        var c2 = n.Op("Conv", "conv2", [r1, n.Const("conv2.weight.z", [3, 4, 3, 3], i => i >= 72 ? 0 : w2Values[i]), n.Const("conv2.bias", [3], i => i == 2 ? 0 : 0.3)],
            [1, 3, 3, 3], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        var r2 = n.Op("Relu", "relu2", [c2], [1, 3, 3, 3]);
        var f = n.Op("Flatten", "flatten", [r2], [1, 27], Int("axis", 1));
        var g = n.Op("Gemm", "fc", [f, n.Random("fc.weight", [5, 27]), n.Random("fc.bias", [5])], [1, 5], Int("transB", 1));
        return n.Finish(g);
    }

    private static float[] Weight(MirModule m, string conv) =>
        Mopt.Dialects.Onnx.Constants.TryGet(m.AllOperations().Single(o => o.Name == "onnx.Conv" && o.Location.FirstName == conv).GetOperand(1), m)!.ToFloats();

    private static long[] Shape(MirModule m, string op) =>
        ((TensorType)m.AllOperations().Single(o => o.Location.FirstName == op && o.Name != "onnx.Constant").GetOperand(1).Type).Shape!.ToArray();

    [Theory]
    [InlineData("l1_norm", false)]
    [InlineData("geometry_median", false)]
    [InlineData("bn_scale", true)]
    public void EachCriterionRemovesTheLowChannelsAndKeepsTheOutputs(string criterion, bool withBn)
    {
        var r = Numerics.AssertPreserves(Net(withBn), $"prune-channels{{params=conv1\\.weight ratio=0.5 criterion={criterion}}}", 1e-6);
        Assert.Equal([3, 1, -3, 2], Weight(r.After, "conv1"));
        Assert.Equal([3, 2, 3, 3], Shape(r.After, "conv2"));
        Assert.Contains("2 channels removed", r.Runs[0].Context.Summarize());
        if (withBn)
            Assert.Equal([1.5f, -2f], Mopt.Dialects.Onnx.Constants.TryGet(r.After.AllOperations().Single(o => o.Name == "onnx.BatchNormalization").GetOperand(1), r.After)!.ToFloats());
    }

    [Theory]
    [InlineData("l1_norm")]
    [InlineData("geometry_median")]
    public void ATieRemovesTheHigherIndex(string criterion)
    {
        // Channels 1 and 3 tie; one goes (round(0.25 * 4) = 1): channel 3, the lower index is kept.
        var r = Numerics.AssertPreserves(Net(false), $"prune-channels{{params=conv1\\.weight ratio=0.25 criterion={criterion}}}", 1e-6);
        Assert.Equal([3, 1, 0, 0, -3, 2], Weight(r.After, "conv1"));
    }

    [Fact]
    public void TheChainThroughBnReluConvFlattenGemmStaysConsistent()
    {
        var r = Numerics.AssertPreserves(Net(true), "prune-channels{params=conv.* ratio=0.4}", 1e-6);
        Assert.Equal([2, 2, 1, 1], ((TensorType)r.After.AllOperations().Single(o => o.Location.FirstName == "conv1" && o.Name == "onnx.Conv").GetOperand(1).Type).Shape!.ToArray());
        // conv1: round(0.4 * 4) = 2 channels; conv2: round(0.4 * 3) = 1 channel, the zero one; the Gemm loses its 9 inputs.
        Assert.Equal([2, 2, 3, 3], Shape(r.After, "conv2"));
        Assert.Equal([5, 18], Shape(r.After, "fc"));
        Assert.Contains("2 convs pruned", r.Runs[0].Context.Summarize());
    }

    [Fact]
    public void RatioZeroLeavesTheOutputsBitIdentical()
    {
        var r = Numerics.AssertPreserves(Net(true, seed: 5), "prune-channels{params=conv.* ratio=0}", 0);
        Assert.All(r.Differences, d => Assert.Equal(0, d.MaxRelDiff));
        Assert.Equal([4, 2, 1, 1], ((TensorType)r.After.AllOperations().First(o => o.Name == "onnx.Conv").GetOperand(1).Type).Shape!.ToArray());
    }

    [Theory]
    [InlineData("params=conv( ratio=0.5", "is not a valid regular expression: insufficient closing parentheses at offset 5")]
    [InlineData("params=nothing", "matches no Conv weight; Conv weights are named e.g. 'conv1.weight', 'conv2.weight.z'")]
    [InlineData("params=conv.* ratio=1", "ratio=1 is outside [0, 1)")]
    [InlineData("params=conv.* ratio=-0.1", "ratio=-0.1 is outside [0, 1)")]
    public void BadOptionsAreClearErrors(string options, string message)
    {
        var e = Assert.Throws<PipelineException>(() => Numerics.RunPasses(Net(false), $"prune-channels{{{options}}}"));
        Assert.Contains(message, e.Message);
    }
}
