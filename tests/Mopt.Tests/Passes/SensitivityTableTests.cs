using Mopt.Passes.Pruning;

namespace Mopt.Tests.Passes;

/// <summary>
/// <see cref="SensitivityTable.RatiosByLoss"/> against PaddleSlim's get_ratios_by_loss, worked by hand on small curves
/// (docs/research/channel-pruning.md, section 2.4), and the table's ratio keys.
/// </summary>
public sealed class SensitivityTableTests
{
    private static SensitivityTable Table(params (string Layer, double Ratio, double? Loss)[] points)
    {
        var t = new SensitivityTable(SensitivityTable.Top1, 0.9, 100, "l1_norm");
        foreach (var (layer, ratio, loss) in points) t.Set(layer, new SensitivityPoint(ratio, loss, loss is { } l ? 0.9 * (1 - l) : null));
        return t;
    }

    private static readonly (string, double, double?)[] Curve = [("a", 0.1, 0.0), ("a", 0.4, 0.05), ("a", 0.2, 0.005), ("a", 0.3, 0.02)];

    [Fact]
    public void TheLargestRatioWithinTheLossIsInterpolatedTowardsTheNextPoint()
    {
        // (0.2, 0.005) is the largest ratio within 0.01; towards (0.3, 0.02): 0.2 + (0.01 - 0.005) * 0.1 / 0.015 = 0.2333...
        Assert.Equal(0.2 + 0.005 * 0.1 / 0.015, Table(Curve).RatiosByLoss(0.01)["a"], 12);
        // Exactly on a point: that point's ratio (interpolation gives r0 when maxLoss = l0).
        Assert.Equal(0.3, Table(Curve).RatiosByLoss(0.02)["a"], 12);
    }

    [Fact]
    public void TheLastPointWithinTheLossIsTakenAsItIs()
    {
        Assert.Equal(0.4, Table(Curve).RatiosByLoss(0.05)["a"]);
        Assert.Equal(0.4, Table(Curve).RatiosByLoss(1.0)["a"]);
    }

    [Fact]
    public void NoPointWithinTheLossGivesZeroWithoutInterpolatingFromTheOrigin()
    {
        var t = Table(("a", 0.1, 0.02), ("a", 0.2, 0.04));
        Assert.Equal(0.0, t.RatiosByLoss(0.01)["a"]);
    }

    [Fact]
    public void ANonMonotoneCurveTakesTheLargestRatioWithinTheLoss()
    {
        // 0.1 is above the loss but 0.2 is within it: 0.2 + (0.01 - 0.001) * 0.1 / (0.04 - 0.001).
        var t = Table(("a", 0.1, 0.03), ("a", 0.2, 0.001), ("a", 0.3, 0.04));
        Assert.Equal(0.2 + 0.009 * 0.1 / 0.039, t.RatiosByLoss(0.01)["a"], 12);
    }

    [Fact]
    public void ARatioThatPrunesNothingCountsAsNoLossAndSkippedLayersAreLeftOut()
    {
        // At 0.1 prune-channels removes no channel: the model is the unpruned one, loss 0, as PaddleSlim would measure.
        var t = Table(("a", 0.1, null), ("a", 0.2, 0.5), ("b", 0.1, 0.0));
        t.Skip("c", "feeds a graph output");
        var ratios = t.RatiosByLoss(0.01);
        Assert.Equal(0.1 + 0.01 * 0.1 / 0.5, ratios["a"], 12);
        Assert.Equal(0.1, ratios["b"]);
        Assert.Equal(["a", "b"], ratios.Keys);
    }

    [Fact]
    public void RatiosAreKeyedToOneMillionth()
    {
        var t = Table(("a", 0.30000000000000004, 0.1));
        Assert.True(t.Has("a", 0.3));
        Assert.True(t.Has("a", 0.3000004));
        Assert.False(t.Has("a", 0.300001));
        t.Set("a", new SensitivityPoint(0.3, 0.2, 0.72));
        Assert.Equal(0.2, Assert.Single(t.Points("a")).Loss);
        Assert.Equal("0.3", SensitivityTable.KeyText(0.30000000000000004));
    }
}
