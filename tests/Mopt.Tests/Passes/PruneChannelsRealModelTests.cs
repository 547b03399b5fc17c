using System.Text.Json;
using System.Text.RegularExpressions;
using Mopt.Backend.Runtime;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Tests.Caffe;

namespace Mopt.Tests.Passes;

/// <summary>
/// --prune-channels on real models (shared/models): the Caffe LeNet, and at ratio 0.5 over every Conv a Paddle ResNet
/// (residual groups), a TensorFlow depthwise-separable KWS net (depthwise lockstep) and the ONNX UltraFace detector
/// (Concat offsets, depthwise, heads that must be skipped): each still runs in ONNX Runtime with the same output
/// shapes and fewer multiply-adds, and the Convs the report counts as pruned and skipped are the ones whose channels
/// changed and did not change in the written graph.
/// </summary>
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

    public static TheoryData<string, string[]> Models() => new()
    {
        { "residual", ["paddle/paddlemobile_resnet_cifar"] },
        { "depthwise", ["tf/ml_kws_ds_cnn_s/DS_CNN_S.pb", "--tf-inputs=Reshape_1", "--tf-outputs=labels_softmax", "--set-input-shape=Reshape_1=1x49x10x1"] },
        { "concat", ["onnx/ultraface_rfb_320/version-RFB-320.onnx"] },
    };

    [SharedModelsTheory]
    [MemberData(nameof(Models))]
    public void EveryConvPrunedAtHalfStillRunsWithFewerMultiplyAdds(string structure, string[] source)
    {
        using var dir = new TempDir();
        string[] input = [Path.Combine(TestPaths.SharedModels, source[0]), .. source[1..]];
        string original = dir.File("original.onnx"), pruned = dir.File("pruned.onnx"), report = dir.File("report.json");
        Opt([.. input, "--pipeline=deploy", "-o", original]);
        Opt([.. input, "--pipeline=deploy", "--prune-channels=params=.* ratio=0.5", $"--prune-report={report}", "-o", pruned]);

        // Read from the two graphs: which Convs lost channels.
        var (before, after) = (OnnxImporter.ImportFile(original), OnnxImporter.ImportFile(pruned));
        var convsBefore = before.AllOperations().Where(o => o.Name == "onnx.Conv").ToList();
        var convsAfter = after.AllOperations().Where(o => o.Name == "onnx.Conv").ToList();
        Assert.Equal(convsBefore.Count, convsAfter.Count);
        var shrunk = convsBefore.Zip(convsAfter).Where(p => OutChannels(p.Second) < OutChannels(p.First)).ToList();
        Assert.All(shrunk, p => Assert.Equal(OutChannels(p.First) - (long)Math.Round(OutChannels(p.First) * 0.5, MidpointRounding.ToEven), OutChannels(p.Second)));
        // Depthwise Convs stay depthwise: group = their (kept) input channels.
        Assert.All(convsAfter.Where(c => (c.ReadInt("group") ?? 1) > 1), c => Assert.Equal(((TensorType)c.GetOperand(0).Type).Shape![1], c.ReadInt("group")));

        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var root = json.RootElement;
        int layers = root.GetProperty("layers").GetArrayLength(), skipped = root.GetProperty("skipped").GetArrayLength();
        Assert.Equal(shrunk.Count, layers);
        Assert.Equal(convsBefore.Count, layers + skipped);
        Assert.True(root.GetProperty("multiply_adds_after").GetInt64() < root.GetProperty("multiply_adds_before").GetInt64());
        Assert.True(root.GetProperty("parameters_after").GetInt64() < root.GetProperty("parameters_before").GetInt64());

        switch (structure)
        {
            case "residual":
                Assert.Contains(before.AllOperations(), o => o.Name == "onnx.Add" && o.Operands.All(v => v is OpResult { Owner.Name: not "onnx.Constant" }));
                Assert.Contains(root.GetProperty("layers").EnumerateArray(), l => l.TryGetProperty("pruned_with", out _));
                break;
            case "depthwise":
                Assert.Contains(shrunk, p => (p.First.ReadInt("group") ?? 1) > 1);
                break;
            case "concat":
                var cats = before.AllOperations().Where(o => o.Name == "onnx.Concat").Zip(after.AllOperations().Where(o => o.Name == "onnx.Concat"));
                Assert.Contains(cats, p => p.First.Result.Type is TensorType { Rank: 4 } t && ((TensorType)p.Second.Result.Type).Shape![1] < t.Shape![1]);
                break;
        }

        using var originalRunner = new OrtRunner(File.ReadAllBytes(original), what: "original");
        using var prunedRunner = new OrtRunner(File.ReadAllBytes(pruned), what: "pruned");
        var inputs = RandomInputs.For(originalRunner.Inputs, seed: 3);
        var expected = originalRunner.Run(inputs);
        var actual = prunedRunner.Run(inputs);
        foreach (var name in originalRunner.OutputNames)
        {
            Assert.Equal(expected[name].Shape, actual[name].Shape);
            Assert.All(RandomInputs.ToDoubles(actual[name]), v => Assert.True(double.IsFinite(v)));
        }
    }

    private static long OutChannels(Operation conv) => ((TensorType)conv.GetOperand(1).Type).Shape![0];

    private static void Opt(params string[] args)
    {
        var (exit, _, stderr) = Mir.Opt(args);
        Assert.True(exit == 0, $"mopt-opt {string.Join(" ", args)}: {stderr}");
    }

    [GeneratedRegex(@"parameters: (\d+) -> (\d+)")]
    private static partial Regex ParametersLine();
}
