using Mopt.Passes.Pruning;
using Mopt.Tests.Caffe;

namespace Mopt.Tests.Passes;

/// <summary>--prune-sensitivity end to end on the real Caffe LeNet (shared/models), through the tool, in agreement mode on random inputs.</summary>
public sealed class PruneSensitivityRealModelTests
{
    [SharedModelsFact]
    public void LeNetGetsAPointPerLayerAndRatioAndAChart()
    {
        var net = CaffeRealNets.Named("lenet");
        using var dir = new TempDir();
        var report = dir.File("sens.json");
        var (exit, _, stderr) = Mir.Opt([.. net.MoptInput(CaffeRealNets.Models), "--pipeline=deploy",
            $"--prune-sensitivity=data=random:3 ratios=0.2,0.5,0.8 workers=2 report={report} chart={dir.File("sens.png")}", "-o", dir.File("lenet.mir")]);
        Assert.True(exit == 0, stderr);
        var table = SensitivityTableFile.Read(report);
        Assert.Equal(SensitivityTable.Agreement, table.Metric);
        // The prototxt's batch of 64 runs whole: 3 runs give 192 predictions.
        Assert.Equal(3 * 64, table.Samples);
        Assert.Equal(["conv1", "conv2"], table.Layers);
        foreach (var layer in table.Layers)
        {
            var points = table.Points(layer);
            Assert.Equal([0.2, 0.5, 0.8], points.Select(p => p.Ratio));
            Assert.All(points, p => Assert.InRange(p.Loss!.Value, 0, 1));
            Assert.All(points, p => Assert.Equal(1 - p.Loss!.Value, p.MetricValue!.Value, 12));
        }
        // Removing 80% of conv2's filters changes some of 192 predictions (LeNet is not that redundant).
        Assert.True(table.Points("conv2")[2].Loss > 0, stderr);
        Assert.True(new FileInfo(dir.File("sens.png")).Length > 10_000);
        Assert.Contains("prune-sensitivity: baseline agreement 1 on 192 samples", stderr);
    }
}
