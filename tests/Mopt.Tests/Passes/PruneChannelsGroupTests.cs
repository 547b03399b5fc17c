using Mopt.Dialects.Onnx;
using Mopt.Ir;
using Mopt.Passes;
using Mopt.Passes.Pruning;
using Mopt.Tests.Numeric;
using static Mopt.Tests.Passes.TestNet;

namespace Mopt.Tests.Passes;

/// <summary>
/// --prune-channels on channel groups: residual joins (one shared choice, made by the first matched Conv), depthwise
/// Convs shrinking in lockstep, Concat offsets, folded BN / PRelu, Flatten with a dynamic batch; ResNet-like and
/// MobileNetV2-like nets whose removed channels are dead must give the original outputs in ONNX Runtime.
/// </summary>
public sealed class PruneChannelsGroupTests
{
    private static Operation Op(MirModule m, string name) => m.AllOperations().Single(o => o.Location.FirstName == name && o.Name != "onnx.Constant");

    private static long[] WeightShape(MirModule m, string op, int operand = 1) => ((TensorType)Op(m, op).GetOperand(operand).Type).Shape!.ToArray();

    private static float[] Floats(MirModule m, string op, int operand = 1) => Constants.TryGet(Op(m, op).GetOperand(operand), m)!.ToFloats();

    private static Value Conv1x1(TestNet n, string name, Value x, float[] w, long cout, long[] spatial)
    {
        long cin = ((TensorType)x.Type).Shape![1];
        return n.Op("Conv", name, [x, n.Const(name + ".w", [cout, cin, 1, 1], i => w[i])], [1, cout, .. spatial], Ints("kernel_shape", 1, 1));
    }

    // a and b (1x1, one input channel) are joined by an Add; their l1 scores are a: 4, 1, 3, 2 and b: 1, 4, 2, 3.
    private static MirModule Residual()
    {
        var n = new TestNet(1, ("x", [1, 1, 2, 2]));
        var a = Conv1x1(n, "a", n[0], [4, -1, 3, 2], 4, [2, 2]);
        var b = Conv1x1(n, "b", n[0], [-1, 4, 2, -3], 4, [2, 2]);
        var add = n.Op("Add", "add", [a, b], [1, 4, 2, 2]);
        var relu = n.Op("Relu", "relu", [add], [1, 4, 2, 2]);
        var c = Conv1x1(n, "c", relu, [.. Enumerable.Range(1, 12).Select(i => (float)i)], 3, [2, 2]);
        return n.Finish(c);
    }

    [Fact]
    public void TheFirstMatchedConvOfAResidualGroupChoosesForAll()
    {
        // a comes first: its lowest l1 channels (1 and 3) go from a, b and c's input; b's own ratio is not used.
        var r = Numerics.RunPasses(Residual(), "prune-channels{params=a\\.w|b\\.w ratio=0.5 ratios=b.w:0.25}");
        Assert.All(r.Differences, d => Assert.True(d.ShapesMatch));
        Assert.Equal([4, 3], Floats(r.After, "a"));
        Assert.Equal([-1, 2], Floats(r.After, "b"));
        Assert.Equal([1, 3, 5, 7, 9, 11], Floats(r.After, "c"));
        var summary = r.Runs[0].Context.Summarize();
        Assert.Contains("2 convs pruned", summary);
        Assert.DoesNotContain("skipped", summary);
    }

    [Fact]
    public void AnUnmatchedProducerOfTheGroupIsPrunedWithTheMatchedOne()
    {
        // Only b matches: b's lowest channels (0 and 2) go, from a too (structurally necessary).
        var r = Numerics.RunPasses(Residual(), "prune-channels{params=b\\.w ratio=0.5}");
        Assert.Equal([-1, 2], Floats(r.After, "a"));
        Assert.Equal([4, -3], Floats(r.After, "b"));
        Assert.Equal([2, 4, 6, 8, 10, 12], Floats(r.After, "c"));
    }

    [Fact]
    public void TheReportSaysWhichConvAMemberFollowed()
    {
        using var dir = new TempDir();
        var json = dir.File("report.json");
        var notes = new StringWriter();
        var pass = new PruneChannels();
        pass.SetOptions($"params=b\\.w ratio=0.5 report='{json}'");
        new PassManager { Passes = { pass }, Notes = notes }.Run(Residual());
        Assert.Contains("a                    4      2  (with b)", notes.ToString());
        var text = File.ReadAllText(json).ReplaceLineEndings("\n");
        Assert.Contains("\"name\": \"a\",\n      \"channels_before\": 4,\n      \"channels_after\": 2,\n      \"pruned_with\": \"b\"", text);
        Assert.Contains("\"name\": \"b\",\n      \"channels_before\": 4,\n      \"channels_after\": 2\n", text);
    }

    [Fact]
    public void AGraphInputAtAResidualJoinSkipsTheWholeGroup()
    {
        var n = new TestNet(3, ("x", [1, 4, 3, 3]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("conv.weight", [4, 4, 1, 1])], [1, 4, 3, 3], Ints("kernel_shape", 1, 1));
        var add = n.Op("Add", "add", [c, n[0]], [1, 4, 3, 3]);
        var c2 = n.Op("Conv", "conv2", [add, n.Random("conv2.weight", [2, 4, 1, 1])], [1, 2, 3, 3], Ints("kernel_shape", 1, 1));
        var r = Numerics.AssertPreserves(n.Finish(c2), "prune-channels{params=conv\\.weight ratio=0.5}", 0);
        Assert.Equal([4, 4, 1, 1], WeightShape(r.After, "conv"));
        Assert.Contains("conv: a graph input joins the channels", r.Runs[0].Context.Summarize());
    }

    [Fact]
    public void ATransposeAnywhereInTheGroupSkipsEveryMember()
    {
        // b's channels reach a Transpose: a (matched, the master) cannot be pruned either.
        var n = new TestNet(4, ("x", [1, 1, 2, 2]));
        var a = Conv1x1(n, "a", n[0], [4, -1, 3, 2], 4, [2, 2]);
        var b = Conv1x1(n, "b", n[0], [-1, 4, 2, -3], 4, [2, 2]);
        var add = n.Op("Add", "add", [a, b], [1, 4, 2, 2]);
        var transpose = n.Op("Transpose", "transpose", [b], [1, 2, 2, 4], Ints("perm", 0, 2, 3, 1));
        var c = Conv1x1(n, "c", add, [.. Enumerable.Range(1, 12).Select(i => (float)i)], 3, [2, 2]);
        var r = Numerics.AssertPreserves(n.Finish(c, transpose), "prune-channels{params=a\\.w|b\\.w ratio=0.5}", 0);
        Assert.Equal([4, 1, 1, 1], WeightShape(r.After, "a"));
        Assert.Equal([4, 1, 1, 1], WeightShape(r.After, "b"));
        var summary = r.Runs[0].Context.Summarize();
        Assert.Contains("a: its channels reach onnx.Transpose transpose", summary);
        Assert.Contains("b: its channels reach onnx.Transpose transpose", summary);
    }

    [Fact]
    public void ADepthwiseConvShrinksInLockstep()
    {
        // e's channels 1 and 3 are dead (zero weights); the depthwise Conv (multiplier 2, bias 0 there) keeps
        // weights 0, 1, 4, 5 and group 2; p keeps the same input channels.
        var n = new TestNet(5, ("x", [1, 2, 4, 4]));
        var e = Conv1x1(n, "e", n[0], [1, 2, 0, 0, -3, 1, 0, 0], 4, [4, 4]);
        var relu = n.Op("Relu", "relu", [e], [1, 4, 4, 4]);
        var dw = n.Op("Conv", "dw", [relu, n.Const("dw.w", [8, 1, 3, 3], i => 1 + i / 9), n.Const("dw.b", [8], i => i is 2 or 3 or 6 or 7 ? 0 : i)],
            [1, 8, 4, 4], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("group", 4));
        var p = n.Op("Conv", "p", [dw, n.Random("p.w", [3, 8, 1, 1])], [1, 3, 4, 4], Ints("kernel_shape", 1, 1));
        var r = Numerics.AssertPreserves(n.Finish(p), "prune-channels{params=e\\.w|dw\\.w ratio=0.5}", 1e-6);
        Assert.Equal([4, 1, 3, 3], WeightShape(r.After, "dw"));
        Assert.Equal(new float[] { 1, 2, 5, 6 }, Floats(r.After, "dw").Where((_, i) => i % 9 == 0));
        Assert.Equal([0, 1, 4, 5], Floats(r.After, "dw", 2));
        Assert.Equal(2, Op(r.After, "dw").ReadInt("group"));
        Assert.Equal([3, 4, 1, 1], WeightShape(r.After, "p"));
        var summary = r.Runs[0].Context.Summarize();
        Assert.Contains("2 convs pruned", summary);
        Assert.DoesNotContain("skipped", summary);
    }

    [Fact]
    public void AMatchedDepthwiseConvIsNotPrunedOnItsOwn()
    {
        var n = new TestNet(6, ("x", [1, 4, 4, 4]));
        var dw = n.Op("Conv", "dw", [n[0], n.Random("dw.w", [4, 1, 3, 3])], [1, 4, 4, 4], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("group", 4));
        var p = n.Op("Conv", "p", [dw, n.Random("p.w", [3, 4, 1, 1])], [1, 3, 4, 4], Ints("kernel_shape", 1, 1));
        var r = Numerics.AssertPreserves(n.Finish(p), "prune-channels{params=dw\\.w ratio=0.5}", 0);
        Assert.Equal([4, 1, 3, 3], WeightShape(r.After, "dw"));
        Assert.Contains("dw: a depthwise Conv is pruned only in lockstep with the Conv feeding it", r.Runs[0].Context.Summarize());
    }

    [Fact]
    public void ConcatMovesTheChannelsToTheirOffset()
    {
        // b (the second Concat input) loses its dead channels 0 and 2: c keeps input channels 0-3, 5 and 7.
        var n = new TestNet(7, ("x", [1, 2, 3, 3]));
        var a = Conv1x1(n, "a", n[0], [1, 2, 3, 4, 5, 6, 7, 8], 4, [3, 3]);
        var b = Conv1x1(n, "b", n[0], [0, 0, 1, -2, 0, 0, 3, 1], 4, [3, 3]);
        var cat = n.Op("Concat", "cat", [a, b], [1, 8, 3, 3], Int("axis", 1));
        var c = Conv1x1(n, "c", cat, [.. Enumerable.Range(0, 16).Select(i => (float)i)], 2, [3, 3]);
        var r = Numerics.AssertPreserves(n.Finish(c), "prune-channels{params=b\\.w ratio=0.5}", 1e-6);
        Assert.Equal([0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 13, 15], Floats(r.After, "c"));
        Assert.Equal([1, 6, 3, 3], ((TensorType)Op(r.After, "cat").Result.Type).Shape!.ToArray());
    }

    [Fact]
    public void AResidualJoinAfterAConcatIsSkipped()
    {
        var n = new TestNet(8, ("x", [1, 2, 3, 3]));
        var a = Conv1x1(n, "a", n[0], [1, 2, 3, 4, 5, 6, 7, 8], 4, [3, 3]);
        var b = Conv1x1(n, "b", n[0], [0, 0, 1, -2, 0, 0, 3, 1], 4, [3, 3]);
        var cat = n.Op("Concat", "cat", [a, b], [1, 8, 3, 3], Int("axis", -3));
        var d = Conv1x1(n, "d", n[0], [.. Enumerable.Range(0, 16).Select(i => (float)i)], 8, [3, 3]);
        var add = n.Op("Add", "add", [cat, d], [1, 8, 3, 3]);
        var c = Conv1x1(n, "c", add, [.. Enumerable.Range(0, 16).Select(i => (float)i)], 2, [3, 3]);
        var r = Numerics.AssertPreserves(n.Finish(c), "prune-channels{params=b\\.w ratio=0.5}", 0);
        Assert.Equal([4, 2, 1, 1], WeightShape(r.After, "b"));
        Assert.Contains("b: onnx.Add add joins the channels after they moved (a Concat or channel multiplier): cannot follow offsets", r.Runs[0].Context.Summarize());
    }

    [Fact]
    public void AFoldedBatchNormPerChannelAddAndPReluFollowAndBnScaleReadsTheMul()
    {
        // conv → Mul(s) → Add(t) → PRelu(slope) → conv2: |s| ranks the channels (1 and 3 are 0, and t is 0 there).
        var n = new TestNet(9, ("x", [1, 2, 3, 3]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("conv.w", [4, 2, 3, 3])], [1, 4, 3, 3], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        var mul = n.Op("Mul", "scale", [c, n.Const("s", [1, 4, 1, 1], i => new[] { 2, 0, -0.5, 0 }[i])], [1, 4, 3, 3]);
        var add = n.Op("Add", "shift", [mul, n.Const("t", [4, 1, 1], i => new[] { 0.1, 0, -0.2, 0 }[i])], [1, 4, 3, 3]);
        var prelu = n.Op("PRelu", "prelu", [add, n.Const("slope", [4, 1, 1], i => 0.1 * (i + 1))], [1, 4, 3, 3]);
        var c2 = n.Op("Conv", "conv2", [prelu, n.Random("conv2.w", [3, 4, 1, 1])], [1, 3, 3, 3], Ints("kernel_shape", 1, 1));
        var r = Numerics.AssertPreserves(n.Finish(c2), "prune-channels{params=conv\\.w ratio=0.5 criterion=bn_scale}", 1e-6);
        Assert.Equal([2, -0.5f], Floats(r.After, "scale"));
        Assert.Equal([0.1f, -0.2f], Floats(r.After, "shift"));
        Assert.Equal([0.1f, 0.3f], Floats(r.After, "prelu"));
        Assert.Equal([3, 2, 1, 1], WeightShape(r.After, "conv2"));
    }

    [Fact]
    public void FlattenWithADynamicBatchFeedsTheGemm()
    {
        var n = new TestNet(10, ("x", [-1, 2, 2, 2]));
        var c = n.Op("Conv", "conv", [n[0], n.Const("conv.w", [3, 2, 1, 1], i => i is 2 or 3 ? 0 : i + 1)], [-1, 3, 2, 2], Ints("kernel_shape", 1, 1));
        var f = n.Op("Flatten", "flatten", [c], [-1, 12], Int("axis", 1));
        var g = n.Op("Gemm", "fc", [f, n.Random("fc.w", [12, 5])], [-1, 5]);
        var r = Numerics.AssertPreserves(n.Finish(g), "prune-channels{params=conv\\.w ratio=0.4}", 1e-6);
        Assert.Equal([8, 5], WeightShape(r.After, "fc"));
        Assert.Equal([-1, 8], ((TensorType)Op(r.After, "flatten").Result.Type).Shape!.ToArray());
    }

    [Fact]
    public void ASqueezeOfThePooledAxesFeedsTheMatMul()
    {
        // GlobalAveragePool → Squeeze(axes 2, 3) → MatMul, as TensorFlow's SpatialSqueeze lowers.
        var n = new TestNet(12, ("x", [1, 2, 3, 3]));
        var c = n.Op("Conv", "conv", [n[0], n.Const("conv.w", [4, 2, 1, 1], i => i is 2 or 3 or 6 or 7 ? 0 : i + 1)], [1, 4, 3, 3], Ints("kernel_shape", 1, 1));
        var pool = n.Op("GlobalAveragePool", "pool", [c], [1, 4, 1, 1]);
        var squeeze = n.Op("Squeeze", "squeeze", [pool, n.Int64s("axes", 2, -1)], [1, 4]);
        var mm = n.Op("MatMul", "fc", [squeeze, n.Random("fc.w", [4, 3])], [1, 3]);
        var r = Numerics.AssertPreserves(n.Finish(mm), "prune-channels{params=conv\\.w ratio=0.5}", 1e-6);
        Assert.Equal([2, 3], WeightShape(r.After, "fc"));
        Assert.Equal([1, 2], ((TensorType)Op(r.After, "squeeze").Result.Type).Shape!.ToArray());
    }

    [Theory]
    [InlineData(0.5, 2)] // round(2.5) = 2: half to even, not 3
    [InlineData(0.3, 2)] // round(1.5) = 2
    [InlineData(0.9, 4)] // round(4.5) = 4, and 4 < 5 - 1 + 1
    [InlineData(0.99, 4)] // round(4.95) = 5, capped at C - 1 = 4
    [InlineData(0.05, 0)] // round(0.25) = 0: nothing changes
    public void TheCountIsPythonsRoundCappedAtCMinusOne(double ratio, int removed)
    {
        var n = new TestNet(11, ("x", [1, 2, 2, 2]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("conv.w", [5, 2, 1, 1])], [1, 5, 2, 2], Ints("kernel_shape", 1, 1));
        var c2 = n.Op("Conv", "conv2", [c, n.Random("conv2.w", [2, 5, 1, 1])], [1, 2, 2, 2], Ints("kernel_shape", 1, 1));
        var r = Numerics.RunPasses(n.Finish(c2), $"prune-channels{{params=conv\\.w ratio={ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}");
        Assert.Equal(5 - removed, WeightShape(r.After, "conv")[0]);
    }

    [Theory]
    [InlineData("l1_norm")]
    [InlineData("bn_scale")]
    public void AResNetLikeNetKeepsItsOutputs(string criterion)
    {
        var r = Numerics.AssertPreserves(PrunableNets.ResNetLike(21), $"prune-channels{{params=.*_weights ratio=0.5 criterion={criterion}}}", 1e-5);
        foreach (var conv in new[] { "stem", "a1", "a2", "b1", "b2" }) Assert.Equal(4, WeightShape(r.After, conv)[0]);
        foreach (var conv in new[] { "c1", "c2", "c_proj", "d1", "d2" }) Assert.Equal(8, WeightShape(r.After, conv)[0]);
        Assert.Equal([10, 8], WeightShape(r.After, "fc"));
        var summary = r.Runs[0].Context.Summarize();
        Assert.Contains("10 convs pruned", summary);
        Assert.DoesNotContain("skipped", summary);
    }

    [Theory]
    [InlineData("l1_norm")]
    [InlineData("bn_scale")]
    public void AMobileNetV2LikeNetKeepsItsOutputs(string criterion)
    {
        var r = Numerics.AssertPreserves(PrunableNets.MobileNetV2Like(22), $"prune-channels{{params=.*_weights ratio=0.5 criterion={criterion}}}", 1e-5);
        Assert.Equal([8, 1, 3, 3], WeightShape(r.After, "block1_dwise"));
        Assert.Equal(8, Op(r.After, "block1_dwise").ReadInt("group"));
        Assert.Equal([4, 8, 1, 1], WeightShape(r.After, "block1_linear"));
        Assert.Equal([10, 8, 1, 1], WeightShape(r.After, "head"));
        Assert.Equal([1, 8, 4, 4], ((TensorType)Op(r.After, "concat").Result.Type).Shape!.ToArray());
        var summary = r.Runs[0].Context.Summarize();
        Assert.Contains("9 convs pruned", summary);
        Assert.DoesNotContain("skipped", summary);
    }

    [Theory]
    [InlineData("l1_norm")]
    [InlineData("geometry_median")]
    [InlineData("bn_scale")]
    public void RatioZeroLeavesBothNetsBitIdentical(string criterion)
    {
        foreach (var net in new[] { PrunableNets.ResNetLike(23), PrunableNets.MobileNetV2Like(24) })
        {
            var r = Numerics.AssertPreserves(net, $"prune-channels{{params=.*_weights ratio=0 criterion={criterion}}}", 0);
            Assert.All(r.Differences, d => Assert.Equal(0, d.MaxRelDiff));
            Assert.Equal(8, WeightShape(r.After, "stem")[0]);
        }
    }

    [Theory]
    [InlineData("params=a\\.w ratios=zz:0.5", "ratios names 'zz', which is not the weight of a Conv matched by params='a\\.w'")]
    [InlineData("params=a\\.w ratios=b.w:0.5", "ratios names 'b.w', which is not the weight of a Conv matched by params='a\\.w'")]
    [InlineData("params=a\\.w ratios=a.w:1.5", "ratios for 'a.w': 1.5 is outside [0, 1)")]
    [InlineData("params=a\\.w ratios=a.w", "ratios entry 'a.w' is not WEIGHT:RATIO")]
    public void BadPerLayerRatiosAreClearErrors(string options, string message)
    {
        var e = Assert.Throws<PipelineException>(() => Numerics.RunPasses(Residual(), $"prune-channels{{{options}}}"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void LayerRatiosHandedInOverrideTheOption()
    {
        var pass = new PruneChannels();
        pass.SetOptions("params=a\\.w|b\\.w ratio=0.25");
        pass.SetLayerRatios(new Dictionary<string, double> { ["a.w"] = 0.5 });
        var module = Residual();
        new PassManager { Passes = { pass } }.Run(module);
        Assert.Equal([4, 3], Floats(module, "a"));
    }
}
