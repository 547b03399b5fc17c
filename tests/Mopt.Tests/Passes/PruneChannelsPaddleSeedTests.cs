using Mopt.Frontend.Paddle;
using Mopt.Ir;
using Mopt.Ir.Printing;
using Mopt.Tests.Onnx;
using static Mopt.Tests.Passes.TestNet;

namespace Mopt.Tests.Passes;

/// <summary>
/// Issue 15's seed: PaddleSlim prunes MobileNetV2 with <c>.*[r|d]_weights</c>, which selects the expand (…d_weights) and
/// linear (…r_weights) 1x1 convs and never the depthwise (…e_weights) ones. Here on a MobileNetV2-style Paddle model
/// with PaddleSlim's own parameter names (conv1_weights, conv2_1_expand_weights, conv2_1_dwise_weights, …,
/// conv9_weights, fc10_weights), written by mopt as a .pdmodel and read back as Paddle.
/// </summary>
public sealed class PruneChannelsPaddleSeedTests
{
    private const string Seed = ".*[r|d]_weights";

    /// <summary>conv1 → block 2_1 (8→8, residual) → block 3_1 (stride 2, 8→12) → block 3_2 (12→12, residual) → conv9 → pool → fc10.</summary>
    private static MirModule MobileNetV2Style()
    {
        var n = new TestNet(15, ("image", [1, 3, 16, 16]));
        Value ConvBn(string name, Value x, long cin, long cout, long k, long stride, long group, long size, bool relu6)
        {
            var w = n.Random(name + "_weights", [cout, cin / group, k, k], 0.4);
            long pad = k / 2;
            var c = n.Op("Conv", name, [x, w], [1, cout, size, size], Ints("kernel_shape", k, k), Ints("strides", stride, stride),
                Ints("pads", pad, pad, pad, pad), Int("group", group));
            var bn = n.Op("BatchNormalization", name + "_bn", [c,
                n.Uniform(name + "_bn_scale", [cout], 0.5, 1.5), n.Random(name + "_bn_offset", [cout], 0.2),
                n.Random(name + "_bn_mean", [cout], 0.2), n.Uniform(name + "_bn_variance", [cout], 0.5, 2)], [1, cout, size, size], Float("epsilon", 1e-5));
            return relu6 ? n.Op("Clip", name + "_relu6", [bn, n.Const(name + "_min", [], _ => 0), n.Const(name + "_max", [], _ => 6)], [1, cout, size, size]) : bn;
        }
        Value Block(string name, Value x, long cin, long cout, long stride, long size)
        {
            long hidden = cin * 2, outSize = size / stride;
            var e = ConvBn(name + "_expand", x, cin, hidden, 1, 1, 1, size, true);
            var d = ConvBn(name + "_dwise", e, hidden, hidden, 3, stride, hidden, outSize, true);
            var l = ConvBn(name + "_linear", d, hidden, cout, 1, 1, 1, outSize, false);
            return stride == 1 && cin == cout ? n.Op("Add", name + "_add", [x, l], [1, cout, outSize, outSize]) : l;
        }
        var x1 = ConvBn("conv1", n[0], 3, 8, 3, 1, 1, 16, true);
        var b21 = Block("conv2_1", x1, 8, 8, 1, 16);
        var b31 = Block("conv3_1", b21, 8, 12, 2, 16);
        var b32 = Block("conv3_2", b31, 12, 12, 1, 8);
        var c9 = ConvBn("conv9", b32, 12, 32, 1, 1, 1, 8, true);
        var pool = n.Op("GlobalAveragePool", "pool", [c9], [1, 32, 1, 1]);
        var flat = n.Op("Flatten", "flatten", [pool], [1, 32], Int("axis", 1));
        var fc = n.Op("Gemm", "fc10", [flat, n.Random("fc10_weights", [32, 10]), n.Random("fc10_offset", [10])], [1, 10]);
        return n.Finish(fc);
    }

    private static void Opt(params string[] args)
    {
        var (exit, _, stderr) = Mir.Opt(args);
        Assert.True(exit == 0, $"mopt-opt {string.Join(" ", args)}: {stderr}");
    }

    private static Dictionary<string, long[]> Weights(string onnx) =>
        OnnxTestSupport.Load(onnx).Graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());

    [Fact]
    public void TheSeedRegexPrunesExpandAndLinearConvsOfAPaddleModelAndTheDepthwiseOnesFollow()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("m.mir"), MirPrinter.PrintToString(MobileNetV2Style()));
        Opt(dir.File("m.mir"), "-o", dir.File("m.pdmodel"));
        var parameters = PaddleModelFiles.Read(dir.File("m.pdmodel")).Program.Blocks[0].Vars.Where(v => v.Persistable).Select(v => v.Name).ToHashSet();
        Assert.Contains("conv2_1_expand_weights", parameters);
        Assert.Contains("conv3_2_linear_weights", parameters);

        // The model as Paddle gave it, lowered, and the same pruned by the seed's regex (and written back as Paddle).
        Opt(dir.File("m.pdmodel"), "--convert-to-onnx", "-o", dir.File("original.onnx"));
        Opt(dir.File("m.pdmodel"), "--convert-to-onnx", $"--prune-channels=params={Seed} ratio=0.5", "--prune-report=" + dir.File("report.json"), "-o", dir.File("pruned.onnx"));
        Opt(dir.File("m.pdmodel"), "--convert-to-onnx", $"--prune-channels=params={Seed} ratio=0.5", "-o", dir.File("pruned.pdmodel"));

        var before = Weights(dir.File("original.onnx"));
        var after = Weights(dir.File("pruned.onnx"));
        // Expand convs: matched, their own halves go; each depthwise conv after one shrinks with it (never on its own).
        foreach (var block in new[] { "conv2_1", "conv3_1", "conv3_2" })
        {
            long hidden = before[block + "_expand_weights"][0];
            Assert.Equal(hidden / 2, after[block + "_expand_weights"][0]);
            Assert.Equal([hidden / 2, 1, 3, 3], after[block + "_dwise_weights"]);
            Assert.Equal(hidden / 2, after[block + "_linear_weights"][1]);
            Assert.Equal(hidden / 2, after[block + "_expand_bn_scale"][0]);
        }
        // Linear convs: residual groups. conv2_1_linear is joined with conv1 by the identity shortcut, so conv1 (which
        // the regex does not select) loses the same channels; conv3_1_linear and conv3_2_linear form one group.
        Assert.Equal(4, after["conv2_1_linear_weights"][0]);
        Assert.Equal(4, after["conv1_weights"][0]);
        Assert.Equal(4, after["conv2_1_expand_weights"][1]);
        Assert.Equal(6, after["conv3_1_linear_weights"][0]);
        Assert.Equal(6, after["conv3_2_linear_weights"][0]);
        Assert.Equal(6, after["conv9_weights"][1]);
        // conv9 is not selected by the seed (…9_weights), nor is fc10.
        Assert.Equal(before["conv9_weights"][0], after["conv9_weights"][0]);
        Assert.Equal(before["fc10_weights"], after["fc10_weights"]);

        var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("report.json"))).RootElement;
        Assert.True(report.GetProperty("multiply_adds_after").GetInt64() < report.GetProperty("multiply_adds_before").GetInt64());

        // Still a valid model, with the original's output shape, in ONNX Runtime; and the Paddle file reads back.
        var input = ("image", new HostTensor(1, [1, 3, 16, 16], Enumerable.Range(0, 768).Select(i => (float)Math.Sin(i)).SelectMany(BitConverter.GetBytes).ToArray()));
        var original = OnnxTestSupport.Run(dir.File("original.onnx"), [input]).Single().Value;
        var pruned = OnnxTestSupport.Run(dir.File("pruned.onnx"), [input]).Single().Value;
        Assert.Equal(original.Shape, pruned.Shape);
        Opt(dir.File("pruned.pdmodel"), "-o", dir.File("back.onnx"));
        OnnxTestSupport.AssertBitIdentical([("out", pruned)], [("out", OnnxTestSupport.Run(dir.File("back.onnx"), [input]).Single().Value)]);
    }
}
