using Mopt.Ir;
using static Mopt.Tests.Passes.TestNet;

namespace Mopt.Tests.Passes;

/// <summary>
/// ResNet-like and MobileNetV2-like nets for --prune-channels whose Convs each have a set of dead output channels:
/// zero weights and a BatchNormalization with gamma = beta = 0 there, so those channels are 0 whatever the input.
/// Every criterion ranks them lowest, so pruning them at ratio 0.5 must leave the outputs as they were.
/// Members of one channel group (a residual join, a depthwise Conv and the Conv feeding it) share their dead set.
/// </summary>
internal sealed class PrunableNets
{
    private readonly Random _rng;
    private readonly TestNet _n;

    private PrunableNets(int seed, long[] input)
    {
        _rng = new Random(seed + 100);
        _n = new TestNet(seed, ("x", input));
    }

    /// <summary><paramref name="count"/> distinct channels of <paramref name="channels"/>, seeded.</summary>
    private int[] Dead(int channels, int count) => Enumerable.Range(0, channels).OrderBy(_ => _rng.Next()).Take(count).Order().ToArray();

    /// <summary>Conv (weight <c>NAME_weights</c>) → BatchNormalization → activation ("relu", "clip" or none); dead channels output 0.</summary>
    private Value ConvBn(string name, Value x, int cout, int k, int stride, int[] dead, string? act, bool depthwise = false)
    {
        var xs = ((TensorType)x.Type).Shape!;
        long cin = xs[1], h = (xs[2] + 2 * (k / 2) - k) / stride + 1, w = (xs[3] + 2 * (k / 2) - k) / stride + 1;
        long per = depthwise ? 1 : cin;
        long filter = per * k * k;
        var weight = _n.Const(name + "_weights", [cout, per, k, k], i => dead.Contains((int)(i / filter)) ? 0 : _n.Gaussian() * 0.5);
        var attrs = new List<(string, Attr)> { Ints("kernel_shape", k, k), Ints("strides", stride, stride), Ints("pads", k / 2, k / 2, k / 2, k / 2) };
        if (depthwise) attrs.Add(Int("group", cin));
        var conv = _n.Op("Conv", name, [x, weight], [xs[0], cout, h, w], [.. attrs]);
        var bn = _n.Op("BatchNormalization", name + "_bn",
            [conv, _n.Const(name + "_bn_scale", [cout], i => dead.Contains(i) ? 0 : (0.5 + _rng.NextDouble()) * (_rng.Next(2) == 0 ? -1 : 1)),
                _n.Const(name + "_bn_offset", [cout], i => dead.Contains(i) ? 0 : _n.Gaussian() * 0.5),
                _n.Random(name + "_bn_mean", [cout]), _n.Uniform(name + "_bn_variance", [cout], 0.5, 2.0)],
            [xs[0], cout, h, w], Float("epsilon", 1e-5));
        return act switch
        {
            "relu" => _n.Op("Relu", name + "_relu", [bn], [xs[0], cout, h, w]),
            "clip" => _n.Op("Clip", name + "_relu6", [bn, _n.Const(name + "_min", [], _ => 0), _n.Const(name + "_max", [], _ => 6)], [xs[0], cout, h, w]),
            _ => bn,
        };
    }

    private Value Add(string name, Value a, Value b) => _n.Op("Add", name, [a, b], ((TensorType)a.Type).Shape!.ToArray());

    private MirModule Head(Value x, int classes)
    {
        var s = ((TensorType)x.Type).Shape!;
        var pool = _n.Op("GlobalAveragePool", "pool", [x], [s[0], s[1], 1, 1]);
        var flat = _n.Op("Flatten", "flatten", [pool], [s[0], s[1]], Int("axis", 1));
        return _n.Finish(_n.Op("Gemm", "fc", [flat, _n.Random("fc_weights", [classes, s[1]]), _n.Random("fc_offset", [classes])], [s[0], classes], Int("transB", 1)));
    }

    /// <summary>
    /// stem → 2 basic blocks (identity shortcuts) → 2 basic blocks at 16 channels (the first with a stride-2 1x1
    /// projection shortcut) → GAP → Gemm. Groups: {stem, a2, b2}, {c2, c_proj, d2}, and each block's first Conv alone.
    /// </summary>
    public static MirModule ResNetLike(int seed, double ratio = 0.5)
    {
        var p = new PrunableNets(seed, [1, 3, 8, 8]);
        int Half(int c) => (int)Math.Round(c * ratio, MidpointRounding.ToEven);
        var stage1 = p.Dead(8, Half(8));
        var stage2 = p.Dead(16, Half(16));
        var x = p.ConvBn("stem", p._n[0], 8, 3, 1, stage1, "relu");
        foreach (var b in new[] { "a", "b" })
        {
            var y = p.ConvBn(b + "1", x, 8, 3, 1, p.Dead(8, Half(8)), "relu");
            y = p.ConvBn(b + "2", y, 8, 3, 1, stage1, null);
            x = p._n.Op("Relu", b + "_out", [p.Add(b + "_add", y, x)], [1, 8, 8, 8]);
        }
        var c = p.ConvBn("c1", x, 16, 3, 2, p.Dead(16, Half(16)), "relu");
        var shortcut = p.ConvBn("c_proj", x, 16, 1, 2, stage2, null);
        c = p.ConvBn("c2", c, 16, 3, 1, stage2, null);
        x = p._n.Op("Relu", "c_out", [p.Add("c_add", c, shortcut)], [1, 16, 4, 4]);
        var d = p.ConvBn("d1", x, 16, 3, 1, p.Dead(16, Half(16)), "relu");
        d = p.ConvBn("d2", d, 16, 3, 1, stage2, null);
        x = p._n.Op("Relu", "d_out", [p.Add("d_add", d, x)], [1, 16, 4, 4]);
        return p.Head(x, 10);
    }

    /// <summary>
    /// stem → inverted residual (expand 1x1 → depthwise 3x3 → linear 1x1, Add) → inverted residual with stride 2 and
    /// 12 output channels, concatenated with a 4-channel 1x1 branch → 1x1 head → GAP → Gemm; BN after each Conv,
    /// Clip(0, 6) as Relu6. Groups: {stem, block1_linear}, {expand + depthwise} ×2, block2_linear (Concat offset 0),
    /// branch (Concat offset 12), head.
    /// </summary>
    public static MirModule MobileNetV2Like(int seed, double ratio = 0.5)
    {
        var p = new PrunableNets(seed, [1, 3, 8, 8]);
        int Half(int c) => (int)Math.Round(c * ratio, MidpointRounding.ToEven);
        var stem = p.Dead(8, Half(8));
        var x = p.ConvBn("stem", p._n[0], 8, 3, 1, stem, "clip");
        var e1 = p.Dead(16, Half(16));
        var y = p.ConvBn("block1_expand", x, 16, 1, 1, e1, "clip");
        y = p.ConvBn("block1_dwise", y, 16, 3, 1, e1, "clip", depthwise: true);
        y = p.ConvBn("block1_linear", y, 8, 1, 1, stem, null);
        x = p.Add("block1_add", y, x);
        var e2 = p.Dead(16, Half(16));
        y = p.ConvBn("block2_expand", x, 16, 1, 1, e2, "clip");
        y = p.ConvBn("block2_dwise", y, 16, 3, 2, e2, "clip", depthwise: true);
        y = p.ConvBn("block2_linear", y, 12, 1, 1, p.Dead(12, Half(12)), null);
        var branch = p.ConvBn("branch", x, 4, 1, 2, p.Dead(4, Half(4)), "clip");
        var cat = p._n.Op("Concat", "concat", [y, branch], [1, 16, 4, 4], Int("axis", 1));
        var head = p.ConvBn("head", cat, 20, 1, 1, p.Dead(20, Half(20)), "clip");
        return p.Head(head, 10);
    }
}
