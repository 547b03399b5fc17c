using System.Text.RegularExpressions;
using Mopt.Tests.Caffe;

namespace Mopt.Tests.Passes;

/// <summary>--prune-channels on the real Caffe LeNet (shared/models): pruned by a regex, written, and still run in ONNX Runtime with fewer parameters.</summary>
public sealed partial class PruneChannelsRealModelTests
{
    [SharedModelsFact]
    public void LeNetPrunedByARegexRunsWithFewerParameters()
    {
        var net = CaffeRealNets.Named("lenet");
        using var dir = new TempDir();
        var onnx = dir.File("lenet-pruned.onnx");
        var (exit, _, stderr) = Mir.Opt([.. net.MoptInput(CaffeRealNets.Models), "--pipeline=deploy", "--prune-channels=params=conv.* ratio=0.5 criterion=geometry_median", "-o", onnx]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("conv1               20     10", stderr);
        Assert.Contains("conv2               50     25", stderr);
        var parameters = ParametersLine().Match(stderr);
        Assert.True(parameters.Success, stderr);
        Assert.True(long.Parse(parameters.Groups[2].Value) < long.Parse(parameters.Groups[1].Value));

        var prob = CaffeReferee.RunOrt(onnx, [net.Feed(CaffeRealNets.Models)], ["prob"]).Single();
        Assert.Equal([64, 10], prob.Shape);
        Assert.InRange(prob.Values.AsSpan(0, 10).ToArray().Sum(), 1 - 1e-5f, 1 + 1e-5f);
    }

    [GeneratedRegex(@"parameters: (\d+) -> (\d+)")]
    private static partial Regex ParametersLine();
}
