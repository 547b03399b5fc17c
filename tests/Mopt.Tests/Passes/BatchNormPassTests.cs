using Mopt.Backend.Onnx;
using Mopt.Ir;
using Mopt.Tests.Numeric;
using static Mopt.Tests.Passes.TestNet;

namespace Mopt.Tests.Passes;

/// <summary>
/// --fold-bn, --bn-to-scale and --fuse-conv-add-mul on small models with random, non-trivial BN statistics: each
/// rewritten model, run in ONNX Runtime, matches the original within 1e-5 (max relative difference), and the op
/// counts show what was folded and what was left.
/// </summary>
public sealed class BatchNormPassTests
{
    private const double Tolerance = 1e-5;

    private static Numerics.Result Check(MirModule module, string pipeline) => Numerics.AssertPreserves(module, pipeline, Tolerance);
    private static int Count(Numerics.Result r, string op) => Numerics.Count(r.After, "onnx." + op);
    private static string Stats(Numerics.Result r, string pass) => r.Runs.First(x => x.Pass.Name == pass).Context.Summarize();
    private static Operation Single(Numerics.Result r, string op) => Assert.Single(r.After.AllOperations(), o => o.Name == "onnx." + op);
    private static Location Fused(params string[] names) => Location.Fuse(names.Select(Location.Named), null);
    private static string? OutputName(Operation op) => (op.GetAttr("mo.outputs") as ArrayAttr)?.Elements.Cast<StringAttr>().Single().Value;

    // ------------------------------------------------------------------ BN after Conv

    [Theory]
    [InlineData(1, true)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    public void ConvThenBatchNormFolds(int group, bool withBias)
    {
        var n = new TestNet(10 * group + (withBias ? 1 : 0), ("x", [1, 4, 7, 7]));
        var w = n.Random("conv.weight", [6, 4 / group, 3, 3]);
        Value[] operands = withBias ? [n[0], w, n.Random("conv.bias", [6])] : [n[0], w];
        var c = n.Op("Conv", "conv", operands, [1, 6, 7, 7], Ints("pads", 1, 1, 1, 1), Int("group", group), Ints("kernel_shape", 3, 3));
        var y = n.BatchNorm("bn", c, 6);
        var r = Check(n.Finish(n.Op("Relu", "relu", [y], [1, 6, 7, 7])), "fold-bn,dce");

        Assert.Equal(0, Count(r, "BatchNormalization"));
        var conv = Single(r, "Conv");
        Assert.Equal(3, conv.OperandCount); // the bias is created when the Conv had none
        Assert.Equal(Fused("conv", "bn"), conv.Location);
        Assert.Equal("bn_out", OutputName(conv));
        Assert.Equal("1 folded", Stats(r, "fold-bn"));
    }

    [Fact]
    public void AFoldedFloatWeightIsEachElementTimesItsChannelsScaleRoundedOnce()
    {
        // W'[m, ...] = (float)(W[m, ...] * s[m]), s = scale / sqrt(var + eps) in double: bit for bit.
        var n = new TestNet(7, ("x", [1, 3, 5, 5]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("conv.weight", [4, 3, 3, 3])], [1, 4, 5, 5], Ints("pads", 1, 1, 1, 1));
        var module = n.Finish(n.BatchNorm("bn", c, 4));
        var bn = module.AllOperations().Single(o => o.Name == "onnx.BatchNormalization");
        float[] Floats(Value v) => Mopt.Dialects.Onnx.Constants.TryGet(v, module)!.ToFloats();
        var (w, scale, variance) = (Floats(module.AllOperations().Single(o => o.Name == "onnx.Conv").GetOperand(1)), Floats(bn.GetOperand(1)), Floats(bn.GetOperand(4)));
        double epsilon = bn.ReadFloat("epsilon")!.Value;

        var r = Check(module, "fold-bn,dce");
        var folded = Mopt.Dialects.Onnx.Constants.TryGet(Single(r, "Conv").GetOperand(1), r.After)!.ToFloats();
        Assert.Equal(w.Length, folded.Length);
        for (int i = 0; i < w.Length; i++)
        {
            int m = i / 27;
            float expected = (float)(w[i] * (scale[m] / Math.Sqrt(variance[m] + epsilon)));
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(folded[i]),
                $"element {i}: {folded[i]:R}, expected {expected:R}");
        }
    }

    [Fact]
    public void DepthwiseConvThenBatchNormFolds()
    {
        var n = new TestNet(3, ("x", [2, 6, 7, 7]));
        var c = n.Op("Conv", "dw", [n[0], n.Random("dw.weight", [6, 1, 3, 3]), n.Random("dw.bias", [6])], [2, 6, 4, 4],
            Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2), Int("group", 6));
        var r = Check(n.Finish(n.BatchNorm("bn", c, 6)), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal(Fused("dw", "bn"), Single(r, "Conv").Location);
    }

    [Fact]
    public void Conv1dThenBatchNormFolds()
    {
        var n = new TestNet(4, ("x", [2, 4, 9]));
        var c = n.Op("Conv", "conv1d", [n[0], n.Random("w", [5, 4, 3])], [2, 5, 7]);
        var r = Check(n.Finish(n.BatchNorm("bn", c, 5)), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal(1, Count(r, "Conv"));
    }

    [Fact]
    public void EachBatchNormsEpsilonIsHonoured()
    {
        // Small variances and large epsilons: a fold with the default epsilon would be far off.
        var n = new TestNet(5, ("x", [1, 3, 5, 5]));
        var c1 = n.Op("Conv", "conv1", [n[0], n.Random("w1", [4, 3, 1, 1])], [1, 4, 5, 5]);
        var b1 = n.BatchNorm("bn1", c1, 4, epsilon: 0.5);
        var c2 = n.Op("Conv", "conv2", [b1, n.Random("w2", [4, 4, 1, 1])], [1, 4, 5, 5]);
        var b2 = n.BatchNorm("bn2", c2, 4, epsilon: 1e-3);
        var r = Check(n.Finish(b2), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal("2 folded", Stats(r, "fold-bn"));
    }

    [Fact]
    public void DynamicBatchStaysDynamic()
    {
        var n = new TestNet(6, ("x", [-1, 4, 6, 6]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("w", [5, 4, 3, 3]), n.Random("b", [5])], [-1, 5, 4, 4]);
        var module = n.Finish(n.BatchNorm("bn", c, 5));
        var r = Numerics.RunPasses(module, "fold-bn,dce", dynamicDim: 3);
        Assert.All(r.Differences, d => Assert.True(d.ShapesMatch && d.MaxRelDiff <= Tolerance, $"{d.Name}: {d.MaxRelDiff:E3}"));
        Assert.Equal("tensor<?x5x4x4xf32>", Single(r, "Conv").Result.Type.Text);
        Assert.Equal("tensor<?x4x6x6xf32>", r.After.MainFunction.Arguments[0].Type.Text);
    }

    [Fact]
    public void ChainedBatchNormsFoldOneAfterTheOther()
    {
        var n = new TestNet(8, ("x", [1, 3, 5, 5]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("w", [4, 3, 3, 3])], [1, 4, 3, 3]);
        var r = Check(n.Finish(n.BatchNorm("bn2", n.BatchNorm("bn1", c, 4), 4)), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal(Fused("conv", "bn1", "bn2"), Single(r, "Conv").Location);
        // The first fold's weight is released by the second: fold-bn leaves no unused weight (dce has nothing to do).
        Assert.Equal("2 folded, 1 blobs removed, 432 blob bytes freed", Stats(r, "fold-bn"));
        Assert.Equal("nothing changed", Stats(r, "dce"));
    }

    [Fact]
    public void GemmWithDynamicBatchFolds()
    {
        var n = new TestNet(9, ("a", [-1, 6]));
        var g = n.Op("Gemm", "fc", [n[0], n.Random("w", [5, 6]), n.Random("b", [5])], [-1, 5], Int("transB", 1));
        var module = n.Finish(n.BatchNorm("bn", g, 5));
        var r = Numerics.RunPasses(module, "fold-bn,dce", dynamicDim: 4);
        Assert.All(r.Differences, d => Assert.True(d.ShapesMatch && d.MaxRelDiff <= Tolerance, $"{d.Name}: {d.MaxRelDiff:E3}"));
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal("tensor<?x5xf32>", Single(r, "Gemm").Result.Type.Text);
    }

    [Fact]
    public void OutputNamesSurvive()
    {
        // The BN's output is a graph output (out0) and an intermediate tensor (bn_out) read by a Relu and a Sigmoid.
        var n = new TestNet(7, ("x", [1, 3, 5, 5]));
        var c1 = n.Op("Conv", "conv1", [n[0], n.Random("w1", [4, 3, 3, 3])], [1, 4, 3, 3]);
        var y1 = n.BatchNorm("bn1", c1, 4);
        var c2 = n.Op("Conv", "conv2", [n[0], n.Random("w2", [4, 3, 3, 3])], [1, 4, 3, 3]);
        var y2 = n.BatchNorm("bn2", c2, 4);
        var r = Check(n.Finish(y1, n.Op("Relu", "relu", [y2], [1, 4, 3, 3])), "fold-bn,dce");
        var graph = OnnxExporter.ToModel(r.After).Graph;
        Assert.Equal(["out0", "out1"], graph.Output.Select(o => o.Name));
        Assert.Equal(["x"], graph.Input.Select(i => i.Name));
        Assert.Equal(["conv1", "conv2", "relu"], graph.Node.Select(node => node.Name));
        Assert.Equal("out0", Assert.Single(graph.Node[0].Output));
        Assert.Equal("bn2_out", Assert.Single(graph.Node[1].Output));
        Assert.Equal("bn2_out", graph.Node[2].Input[0]);
    }

    // ------------------------------------------------------------------ BN after ConvTranspose, Gemm, MatMul

    [Theory]
    [InlineData(1, true)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    public void ConvTransposeThenBatchNormFolds(int group, bool withBias)
    {
        var n = new TestNet(20 + group + (withBias ? 5 : 0), ("x", [1, 4, 5, 5]));
        int m = 3 * group;
        var w = n.Random("deconv.weight", [4, 3, 3, 3]);
        Value[] operands = withBias ? [n[0], w, n.Random("deconv.bias", [m])] : [n[0], w];
        // (5 - 1) * 2 + 3 - 2 + 1 (output_padding) = 10
        var c = n.Op("ConvTranspose", "deconv", operands, [1, m, 10, 10], Int("group", group), Ints("strides", 2, 2),
            Ints("pads", 1, 1, 1, 1), Ints("output_padding", 1, 1));
        var r = Check(n.Finish(n.BatchNorm("bn", c, m)), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        var deconv = Single(r, "ConvTranspose");
        Assert.Equal(3, deconv.OperandCount);
        Assert.Equal(Fused("deconv", "bn"), deconv.Location);
    }

    [Theory]
    [InlineData(0, 0, "N")]
    [InlineData(0, 1, "N")]
    [InlineData(1, 0, "N")]
    [InlineData(1, 1, "N")]
    [InlineData(0, 1, "MN")]
    [InlineData(1, 0, "M1")]
    [InlineData(1, 1, "none")]
    [InlineData(0, 0, "scalar")]
    public void GemmThenBatchNormFolds(int transA, int transB, string c)
    {
        const int M = 3, K = 5, N = 4;
        var n = new TestNet(30 + 2 * transA + transB + c.Length, ("a", transA == 1 ? [K, M] : [M, K]));
        var b = n.Random("fc.weight", transB == 1 ? [N, K] : [K, N]);
        var operands = new List<Value> { n[0], b };
        long[]? cShape = c switch { "N" => [N], "MN" => [M, N], "M1" => [M, 1], "scalar" => [], _ => null };
        if (cShape is not null) operands.Add(n.Random("fc.bias", cShape));
        var g = n.Op("Gemm", "fc", [.. operands], [M, N], Int("transA", transA), Int("transB", transB), Float("alpha", 0.7), Float("beta", 1.3));
        var r = Check(n.Finish(n.BatchNorm("bn", g, N)), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        var gemm = Single(r, "Gemm");
        Assert.Equal(3, gemm.OperandCount);
        Assert.Equal(1.0, gemm.GetFloat("beta"));
        Assert.Equal(Fused("fc", "bn"), gemm.Location);
    }

    [Fact]
    public void MatMulWithConstantWeightThenBatchNormFolds()
    {
        var n = new TestNet(40, ("x", [3, 5]));
        var mm = n.Op("MatMul", "mm", [n[0], n.Random("mm.weight", [5, 4])], [3, 4]);
        var r = Check(n.Finish(n.BatchNorm("bn", mm, 4)), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal(Fused("mm", "bn"), Single(r, "MatMul").Location);
        var add = Single(r, "Add"); // MatMul has no bias: the shift is an Add after it, in the BN's name
        Assert.Equal(Location.Named("bn"), add.Location);
        Assert.Equal("bn_out", OutputName(add));
    }

    [Fact]
    public void BatchedMatMulWithTheWeightOnTheLeftFolds()
    {
        // W[4, 5] @ x[2, 5, 3] -> [2, 4, 3]: the channels (rows of W) are on axis 1, as BN normalizes.
        var n = new TestNet(41, ("x", [2, 5, 3]));
        var mm = n.Op("MatMul", "mm", [n.Random("mm.weight", [4, 5]), n[0]], [2, 4, 3]);
        var r = Check(n.Finish(n.BatchNorm("bn", mm, 4)), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal(1, Count(r, "MatMul"));
        Assert.Equal(1, Count(r, "Add"));
    }

    [Fact]
    public void BatchedMatMulWithTheChannelsOnAnotherAxisIsSkipped()
    {
        // x[2, 3, 5] @ W[5, 4] -> [2, 3, 4]: BN normalizes axis 1 (3), the weight scales axis 2 (4).
        var n = new TestNet(42, ("x", [2, 3, 5]));
        var mm = n.Op("MatMul", "mm", [n[0], n.Random("mm.weight", [5, 4])], [2, 3, 4]);
        var module = n.Finish(n.BatchNorm("bn", mm, 3));
        var r = Check(module, "fold-bn,bn-to-scale,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal(1, Count(r, "Mul"));
        Assert.Equal("0 folded, 1 skipped (mm: its channels are on axis 2 of its rank-3 output, but BatchNormalization normalizes axis 1)",
            Stats(r, "fold-bn"));
    }

    [Fact]
    public void MatMulWithoutConstantWeightIsSkipped()
    {
        var n = new TestNet(43, ("x", [3, 5]), ("w", [5, 4]));
        var mm = n.Op("MatMul", "mm", [n[0], n[1]], [3, 4]);
        var r = Check(n.Finish(n.BatchNorm("bn", mm, 4)), "fold-bn");
        Assert.Equal(1, Count(r, "BatchNormalization"));
        Assert.Contains("mm: MatMul weight not constant", Stats(r, "fold-bn"));
    }

    // ------------------------------------------------------------------ BN before Conv

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public void BatchNormThenUnpaddedConvFolds(int group, bool withBias)
    {
        var n = new TestNet(50 + group, ("x", [1, 4, 7, 7]));
        var bn = n.BatchNorm("bn", n[0], 4);
        var w = n.Random("conv.weight", [6, 4 / group, 3, 3]);
        Value[] operands = withBias ? [bn, w, n.Random("conv.bias", [6])] : [bn, w];
        var c = n.Op("Conv", "conv", operands, [1, 6, 3, 3], Int("group", group), Ints("strides", 2, 2), Ints("dilations", 1, 1));
        var r = Check(n.Finish(c), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        var conv = Single(r, "Conv");
        Assert.Same(r.After.MainFunction.Arguments[0], conv.GetOperand(0));
        Assert.Equal(3, conv.OperandCount);
        Assert.Equal(Fused("conv", "bn"), conv.Location);
        Assert.Equal("conv_out", OutputName(conv));
    }

    [Fact]
    public void BatchNormThenSeveralConvsFoldsIntoEach()
    {
        var n = new TestNet(52, ("x", [1, 3, 6, 6]));
        var bn = n.BatchNorm("bn", n[0], 3);
        var c1 = n.Op("Conv", "conv1", [bn, n.Random("w1", [4, 3, 1, 1])], [1, 4, 6, 6]);
        var c2 = n.Op("Conv", "conv2", [bn, n.Random("w2", [2, 3, 3, 3]), n.Random("b2", [2])], [1, 2, 2, 2], Ints("dilations", 2, 2));
        var r = Check(n.Finish(c1, c2), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal(2, Count(r, "Conv"));
    }

    [Fact]
    public void BatchNormThenSameConvWithoutPaddingFolds()
    {
        // auto_pad SAME_UPPER with a 1x1 kernel pads nothing, whatever the stride.
        var n = new TestNet(53, ("x", [1, 3, -1, -1]));
        var bn = n.BatchNorm("bn", n[0], 3);
        var c = n.Op("Conv", "conv", [bn, n.Random("w", [4, 3, 1, 1])], [1, 4, -1, -1], Str("auto_pad", "SAME_UPPER"), Ints("strides", 2, 2));
        var r = Check(n.Finish(c), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
    }

    [Theory]
    [InlineData("pads")]
    [InlineData("SAME_UPPER")]
    public void BatchNormThenPaddedConvIsSkipped(string padding)
    {
        var n = new TestNet(54, ("x", [1, 3, 6, 6]));
        var bn = n.BatchNorm("bn", n[0], 3);
        var attr = padding == "pads" ? Ints("pads", 1, 1, 1, 1) : Str("auto_pad", "SAME_UPPER");
        var c = n.Op("Conv", "conv", [bn, n.Random("w", [4, 3, 3, 3])], [1, 4, 6, 6], attr);
        var r = Check(n.Finish(c), "fold-bn");
        Assert.Equal(1, Count(r, "BatchNormalization"));
        Assert.Contains("conv: ", Stats(r, "fold-bn"));
        Assert.Contains("zero padding of the normalized input is not zero padding of the input", Stats(r, "fold-bn"));
        // What --fold-bn leaves, --bn-to-scale replaces.
        var n2 = Check(r.After, "bn-to-scale,dce");
        Assert.Equal(0, Count(n2, "BatchNormalization"));
        Assert.Equal(1, Count(n2, "Mul"));
        Assert.Equal(1, Count(n2, "Add"));
    }

    // ------------------------------------------------------------------ shared producers

    [Fact]
    public void SharedProducerIsNotFolded()
    {
        var n = new TestNet(60, ("x", [1, 3, 5, 5]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("w", [4, 3, 3, 3])], [1, 4, 3, 3]);
        var bn = n.BatchNorm("bn", c, 4);
        var relu = n.Op("Relu", "relu", [c], [1, 4, 3, 3]);
        var module = n.Finish(bn, relu);
        var r = Check(module, "fold-bn");
        Assert.Equal(1, Count(r, "BatchNormalization"));
        Assert.Equal("0 folded, 1 skipped (conv: its output also feeds onnx.Relu relu, which would see the folded values)", Stats(r, "fold-bn"));
    }

    [Fact]
    public void SharedProducerIsCopiedWhenAsked()
    {
        var n = new TestNet(61, ("x", [1, 3, 5, 5]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("w", [4, 3, 3, 3]), n.Random("b", [4])], [1, 4, 3, 3]);
        var bn = n.BatchNorm("bn", c, 4);
        var r = Check(n.Finish(bn, c), "fold-bn{duplicate-shared=true},dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal(2, Count(r, "Conv"));
        Assert.Contains(r.After.AllOperations(), o => o.Location == Fused("bn", "conv"));
        Assert.Equal("1 folded, 1 layers duplicated", Stats(r, "fold-bn"));
    }

    [Fact]
    public void SharedProducerFeedingTheSameBatchNormTwiceFolds()
    {
        // Two BNs with the same statistics on the same Conv output: every reader sees the folded values, correctly.
        var n = new TestNet(62, ("x", [1, 3, 5, 5]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("w", [4, 3, 3, 3])], [1, 4, 3, 3]);
        var p = new[] { n.Uniform("g", [4], 0.5, 1.5), n.Random("beta", [4]), n.Random("mu", [4]), n.Uniform("var", [4], 0.1, 1) };
        var bn1 = n.Op("BatchNormalization", "bn1", [c, .. p], [1, 4, 3, 3]);
        var bn2 = n.Op("BatchNormalization", "bn2", [c, .. p], [1, 4, 3, 3]);
        var r = Check(n.Finish(n.Op("Relu", "relu", [bn1], [1, 4, 3, 3]), n.Op("Sigmoid", "sig", [bn2], [1, 4, 3, 3])), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal(Fused("conv", "bn1", "bn2"), Single(r, "Conv").Location);
        Assert.Equal("2 folded", Stats(r, "fold-bn"));
        Assert.Equal("nothing changed", Stats(r, "dce"));
    }

    [Fact]
    public void SharedWeightConstantIsNotChanged()
    {
        var n = new TestNet(63, ("x", [1, 3, 5, 5]));
        var w = n.Random("w", [4, 3, 3, 3]);
        var c1 = n.Op("Conv", "conv1", [n[0], w], [1, 4, 3, 3]);
        var c2 = n.Op("Conv", "conv2", [n[0], w], [1, 4, 3, 3]);
        var r = Check(n.Finish(n.BatchNorm("bn", c1, 4), c2), "fold-bn,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        var convs = r.After.AllOperations().Where(o => o.Name == "onnx.Conv").ToList();
        Assert.NotSame(convs[0].GetOperand(1), convs[1].GetOperand(1));
        Assert.Equal(Location.Named("w"), ((OpResult)convs.Single(o => o.Location == Location.Named("conv2")).GetOperand(1)).Owner.Location);
    }

    // ------------------------------------------------------------------ bn-to-scale

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void BatchNormToScaleOnAnyRank(int rank)
    {
        long[] shape = rank switch { 2 => [3, 5], 3 => [2, 5, 4], _ => [2, 5, 3, 3] };
        var n = new TestNet(70 + rank, ("x", shape));
        var relu = n.Op("Relu", "relu", [n[0]], shape);
        var r = Check(n.Finish(n.BatchNorm("bn", relu, 5)), "bn-to-scale,dce");
        Assert.Equal(0, Count(r, "BatchNormalization"));
        Assert.Equal(Location.Named("bn.mul"), Single(r, "Mul").Location);
        Assert.Equal(Location.Named("bn"), Single(r, "Add").Location);
        var add = Single(r, "Add");
        Assert.Equal("bn_out", OutputName(add));
        var constant = ((OpResult)add.GetOperand(1)).Owner;
        Assert.Equal(rank - 1, ((TensorType)constant.Result.Type).Rank);
        Assert.Equal("1 replaced", Stats(r, "bn-to-scale"));
    }

    [Fact]
    public void BatchNormToScaleThenFuseEqualsFoldBn()
    {
        var n = new TestNet(75, ("x", [-1, 3, 6, 6]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("w", [4, 3, 3, 3])], [-1, 4, 4, 4]);
        var r = Check(n.Finish(n.BatchNorm("bn", c, 4)), "bn-to-scale,fuse-conv-add-mul,dce");
        Assert.Equal(0, Count(r, "BatchNormalization") + Count(r, "Mul") + Count(r, "Add"));
        Assert.Equal(Fused("conv", "bn.mul", "bn"), Single(r, "Conv").Location);
        Assert.Equal("2 folded", Stats(r, "fuse-conv-add-mul"));
    }

    [Fact]
    public void OnlyIfFusableReplacesWhatThenFoldsAndKeepsTheRest()
    {
        static MirModule Build()
        {
            var n = new TestNet(76, ("x", [1, 3, 6, 6]), ("z", [1, 3, 6, 6]));
            // Kept: a Concat's output (as in DenseNet), and a graph input before a padded Conv.
            var cat = n.Op("Concat", "cat", [n[0], n[1]], [1, 6, 6, 6], Int("axis", 1));
            var afterConcat = n.Op("Relu", "relu", [n.BatchNorm("after_concat", cat, 6)], [1, 6, 6, 6]);
            var padded = n.Op("Conv", "padded", [n.BatchNorm("before_padded", n[1], 3), n.Random("pw", [4, 3, 3, 3])], [1, 4, 6, 6],
                Ints("pads", 1, 1, 1, 1));
            // Replaced: Conv -> Add(bias) -> BN, which fold-bn cannot fold but fuse-conv-add-mul can.
            var c = n.Op("Conv", "conv", [n[0], n.Random("w", [4, 3, 3, 3])], [1, 4, 4, 4]);
            var biased = n.Op("Add", "conv_bias", [c, n.Random("b", [4, 1, 1])], [1, 4, 4, 4]);
            return n.Finish(afterConcat, padded, n.BatchNorm("after_bias", biased, 4));
        }

        var r = Check(Build(), "fold-bn,bn-to-scale{only-if-fusable=true},fuse-conv-add-mul,dce");
        Assert.Equal(2, Count(r, "BatchNormalization"));
        Assert.Equal(0, Count(r, "Mul") + Count(r, "Add"));
        Assert.Equal(Fused("conv", "conv_bias", "after_bias.mul", "after_bias"),
            Assert.Single(r.After.AllOperations(), o => o.Name == "onnx.Conv" && o.Location != Location.Named("padded")).Location);
        Assert.Equal("1 replaced, 2 kept", Stats(r, "bn-to-scale"));
        Assert.Equal("3 folded", Stats(r, "fuse-conv-add-mul"));

        // Without the option, every BN becomes Mul + Add, and two pairs stay.
        var all = Check(Build(), "fold-bn,bn-to-scale,fuse-conv-add-mul,dce");
        Assert.Equal(0, Count(all, "BatchNormalization"));
        Assert.Equal(2, Count(all, "Mul"));
        Assert.Equal("3 replaced", Stats(all, "bn-to-scale"));
    }

    [Fact]
    public void OnlyIfFusableReplacesABatchNormRightAfterAConv()
    {
        // Without fold-bn before it, a BN after a Conv is replaced: its Mul and Add fold.
        var n = new TestNet(77, ("x", [1, 3, 6, 6]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("w", [4, 3, 3, 3])], [1, 4, 4, 4]);
        var r = Check(n.Finish(n.BatchNorm("bn", c, 4)), "bn-to-scale{only-if-fusable=true},fuse-conv-add-mul,dce");
        Assert.Equal(0, Count(r, "BatchNormalization") + Count(r, "Mul") + Count(r, "Add"));
        Assert.Equal("1 replaced, 0 kept", Stats(r, "bn-to-scale"));
    }

    [Fact]
    public void DeployKeepsDenseNetsBatchNormsAfterConcats()
    {
        // The measured case: --pipeline=deploy turned DenseNet-121's 62 unfoldable BNs into 124 Mul and Add nodes.
        var module = Mopt.Bench.ModelZoo.Zoo.DenseNet(blocks: [2, 3], inputSize: 32, classes: 10);
        int before = Mopt.Bench.ModelZoo.ModelStats.Of(module).Nodes;
        var r = Check(module, string.Join(",", Mopt.Passes.PipelineRegistry.DeployPasses));
        // Kept: each layer's first BN (5), the transition's and the last; folded: the stem's and each layer's second (6).
        Assert.Equal(7, Count(r, "BatchNormalization"));
        Assert.Equal(0, Count(r, "Mul") + Count(r, "Add"));
        Assert.Equal(before - 6, Mopt.Bench.ModelZoo.ModelStats.Of(r.After).Nodes);
        Assert.Equal("0 replaced, 7 kept", Stats(r, "bn-to-scale"));
    }

    // ------------------------------------------------------------------ fuse-conv-add-mul

    [Fact]
    public void ConvMulAddFold()
    {
        var n = new TestNet(80, ("x", [1, 3, 6, 6]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("w", [4, 3, 3, 3])], [1, 4, 4, 4]);
        var m = n.Op("Mul", "mul", [c, n.Random("s", [4, 1, 1])], [1, 4, 4, 4]);
        var a = n.Op("Add", "add", [n.Random("t", [1, 4, 1, 1]), m], [1, 4, 4, 4]);
        var sub = n.Op("Sub", "sub", [a, n.Random("u", [1])], [1, 4, 4, 4]);
        var div = n.Op("Div", "div", [sub, n.Uniform("d", [4, 1, 1], 0.5, 2)], [1, 4, 4, 4]);
        var r = Check(n.Finish(div), "fuse-conv-add-mul,dce");
        var conv = Single(r, "Conv");
        Assert.Equal(3, conv.OperandCount);
        Assert.Equal(0, Count(r, "Mul") + Count(r, "Add") + Count(r, "Sub") + Count(r, "Div"));
        Assert.Equal(Fused("conv", "mul", "add", "sub", "div"), conv.Location);
        Assert.Equal("div_out", OutputName(conv));
        Assert.Equal("4 folded, 1 blobs removed, 432 blob bytes freed", Stats(r, "fuse-conv-add-mul"));
        Assert.Equal("nothing changed", Stats(r, "dce"));
    }

    [Fact]
    public void ConstantMinusConvFolds()
    {
        var n = new TestNet(81, ("x", [1, 3, 6, 6]));
        var c = n.Op("Conv", "conv", [n[0], n.Random("w", [4, 3, 3, 3]), n.Random("b", [4])], [1, 4, 4, 4]);
        var r = Check(n.Finish(n.Op("Sub", "sub", [n.Random("t", [4, 1, 1]), c], [1, 4, 4, 4])), "fuse-conv-add-mul,dce");
        Assert.Equal(0, Count(r, "Sub"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void GemmAddMulFold(int transB)
    {
        var n = new TestNet(82 + transB, ("a", [3, 5]));
        var g = n.Op("Gemm", "fc", [n[0], n.Random("w", transB == 1 ? [4, 5] : [5, 4]), n.Random("c", [3, 4])], [3, 4],
            Int("transB", transB), Float("beta", 0.5));
        var a = n.Op("Add", "add", [g, n.Random("t", [4])], [3, 4]);
        var m = n.Op("Mul", "mul", [a, n.Const("s", [], _ => -1.7)], [3, 4]);
        var r = Check(n.Finish(m), "fuse-conv-add-mul,dce");
        Assert.Equal(0, Count(r, "Mul") + Count(r, "Add"));
        Assert.Equal(1.0, Single(r, "Gemm").GetFloat("beta"));
    }

    [Fact]
    public void ConvTransposeMulFolds()
    {
        var n = new TestNet(84, ("x", [1, 4, 3, 3]));
        var c = n.Op("ConvTranspose", "deconv", [n[0], n.Random("w", [4, 2, 2, 2])], [1, 4, 6, 6], Int("group", 2), Ints("strides", 2, 2));
        var m = n.Op("Mul", "mul", [c, n.Random("s", [4, 1, 1])], [1, 4, 6, 6]);
        var r = Check(n.Finish(n.Op("Add", "add", [m, n.Random("t", [4, 1, 1])], [1, 4, 6, 6])), "fuse-conv-add-mul,dce");
        Assert.Equal(0, Count(r, "Mul") + Count(r, "Add"));
    }

    [Fact]
    public void MatMulMulFoldsAndItsAddStays()
    {
        var n = new TestNet(85, ("x", [2, 3, 5]));
        var mm = n.Op("MatMul", "mm", [n[0], n.Random("w", [5, 4])], [2, 3, 4]);
        var m = n.Op("Mul", "mul", [mm, n.Random("s", [4])], [2, 3, 4]);
        var r = Check(n.Finish(n.Op("Add", "add", [m, n.Random("t", [4])], [2, 3, 4])), "fuse-conv-add-mul,dce");
        Assert.Equal(0, Count(r, "Mul"));
        Assert.Equal(1, Count(r, "Add"));
        Assert.Equal("1 folded", Stats(r, "fuse-conv-add-mul"));
    }

    [Fact]
    public void NonPerChannelAndSharedAreSkipped()
    {
        var n = new TestNet(86, ("x", [1, 3, 6, 6]));
        var c1 = n.Op("Conv", "conv1", [n[0], n.Random("w1", [4, 3, 3, 3])], [1, 4, 4, 4]);
        var m1 = n.Op("Mul", "mul1", [c1, n.Random("s1", [1, 4, 4, 4])], [1, 4, 4, 4]);
        var c2 = n.Op("Conv", "conv2", [n[0], n.Random("w2", [4, 3, 3, 3])], [1, 4, 4, 4]);
        var m2 = n.Op("Mul", "mul2", [c2, n.Random("s2", [4, 1, 1])], [1, 4, 4, 4]);
        var r = Check(n.Finish(m1, m2, c2), "fuse-conv-add-mul");
        Assert.Equal(2, Count(r, "Mul"));
        Assert.Equal("0 folded, 2 skipped (mul1: constant tensor<1x4x4x4xf32> is not per-channel (one value per channel on axis 1 of tensor<1x4x4x4xf32>); " +
                     "conv2: its output also feeds func.return, which would see the folded values)", Stats(r, "fuse-conv-add-mul"));
    }
}
