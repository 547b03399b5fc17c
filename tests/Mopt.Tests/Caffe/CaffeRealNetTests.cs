using System.Text.RegularExpressions;
using Mopt.Backend.Runtime;
using Mopt.Ir;

namespace Mopt.Tests.Caffe;

/// <summary>
/// Issue 13 items 5 and 6 on the real nets in shared/models/caffe: each imports and lowers, runs in ONNX Runtime with
/// OpenCV's outputs on the original (≤ 1e-4), LeNet answers 9, --pipeline=deploy folds every BatchNorm+Scale and keeps
/// the outputs (≤ 1e-5), and the whole flow to int8 (deploy, then --quantize-int8 calibrated on a folder) runs and reports.
/// </summary>
public sealed partial class CaffeRealNetTests
{
    public static TheoryData<string> Nets() => new(CaffeRealNets.All.Select(n => n.Name));

    private static string Models => CaffeRealNets.Models;

    private static string Opt(params string[] args)
    {
        var (exit, stdout, stderr) = Mir.Opt(args);
        Assert.True(exit == 0, $"mopt-opt {string.Join(" ", args)}: {stderr}");
        return stdout + stderr;
    }

    private static string Lower(CaffeRealNet net, TempDir dir, string stem, params string[] passes)
    {
        var onnx = dir.File(stem + ".onnx");
        Opt([.. net.MoptInput(Models), .. passes, "-o", onnx]);
        return onnx;
    }

    [SharedModelsTheory]
    [MemberData(nameof(Nets))]
    public void LoweredNetMatchesOpenCv(string name)
    {
        var net = CaffeRealNets.Named(name);
        using var dir = new TempDir();
        var onnx = Lower(net, dir, name);
        var input = net.Feed(Models);
        var reference = CaffeReferee.RunOpenCv(net.PrototxtPath(Models), net.CaffeModelPath(Models), [input], CaffeReferee.OpenCvLayersFor(net.PrototxtPath(Models), net.Outputs));
        CaffeReferee.AssertSame(CaffeReferee.RunOrt(onnx, [input], net.Outputs), reference, $"{name} lowered, in ONNX Runtime");
    }

    [SharedModelsFact]
    public void LeNetAnswersNineOnItsSample()
    {
        var net = CaffeRealNets.Named("lenet");
        using var dir = new TempDir();
        var prob = CaffeReferee.RunOrt(Lower(net, dir, "lenet", "--pipeline=deploy"), [net.Feed(Models)], ["prob"]).Single();
        Assert.Equal([64, 10], prob.Shape);
        for (int row = 0; row < 64; row++)
        {
            var p = prob.Values.AsSpan(row * 10, 10).ToArray();
            Assert.Equal(9, Array.IndexOf(p, p.Max()));
            Assert.InRange(p.Sum(), 1 - 1e-5f, 1 + 1e-5f);
        }
    }

    /// <summary>
    /// --pipeline=deploy leaves no BatchNormalization, and no Mul (what a Scale lowers to alone): every BatchNorm+Scale
    /// became one BatchNormalization and that folded into the convolution before it. Each Convolution is one Conv.
    /// </summary>
    [SharedModelsTheory]
    [MemberData(nameof(Nets))]
    public void DeployFoldsEveryBatchNormAndScale(string name)
    {
        var net = CaffeRealNets.Named(name);
        var prototxt = File.ReadAllText(net.PrototxtPath(Models));
        int convolutions = LayerCount(prototxt, "Convolution"), batchNorms = LayerCount(prototxt, "BatchNorm");
        using var dir = new TempDir();
        var deployed = IrAfter(net, dir, "deployed", "--pipeline=deploy");
        Assert.Equal(0, OpCount(deployed, "BatchNormalization"));
        Assert.Equal(0, OpCount(deployed, "Mul"));
        Assert.Equal(convolutions, OpCount(deployed, "Conv"));
        if (batchNorms > 0)
        {
            var lowered = IrAfter(net, dir, "lowered", "--convert-caffe-to-onnx");
            Assert.Equal(batchNorms, OpCount(lowered, "BatchNormalization"));
        }
    }

    /// <summary>The deployed model gives the lowered original's outputs (--verify-against runs the prototxt as its lowering).</summary>
    [SharedModelsTheory]
    [MemberData(nameof(Nets))]
    public void DeployKeepsTheOutputs(string name)
    {
        var net = CaffeRealNets.Named(name);
        using var dir = new TempDir();
        var report = Opt([.. net.MoptInput(Models), "--pipeline=deploy", "-o", dir.File("deploy.onnx"),
            "--verify-against=" + net.PrototxtPath(Models), "--verify-tolerance=1e-5"]);
        Assert.Contains("verify: passed", report);
    }

    /// <summary>The seed's flow: net.prototxt --pipeline=deploy --quantize-int8='calibration=DIR' writes an int8 model and reports it.</summary>
    [SharedModelsTheory]
    [MemberData(nameof(Nets))]
    public void QuantizeInt8FlowRunsAndReports(string name)
    {
        var net = CaffeRealNets.Named(name);
        using var dir = new TempDir();
        var calibration = Directory.CreateDirectory(dir.File("calib")).FullName;
        int count = net.Shape.Aggregate(1, (a, d) => a * d);
        for (int i = 0; i < 4; i++)
        {
            var values = net.Image is null ? SeededValues.Uniform(seed: 100 + i, count) : net.InputValues(Models);
            new NpyArray(ElementType.F32, [.. net.Shape.Select(d => (long)d)], System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray())
                .Write(Path.Combine(calibration, $"{i:D3}.npy"));
        }
        var q = dir.File("int8.onnx");
        var report = Opt([.. net.MoptInput(Models), "--pipeline=deploy", $"--quantize-int8=calibration={calibration}", "-o", q]);
        Assert.Matches(@"quantize-int8: static int8 .*: [1-9]\d* ops quantized, calibrated on 4 samples", report);
        var outputs = CaffeReferee.RunOrt(q, [net.Feed(Models)], net.Outputs);
        Assert.All(outputs, o => Assert.All(o.Values, v => Assert.True(float.IsFinite(v))));
        if (name == "lenet") Assert.Equal(9, Array.IndexOf(outputs[0].Values[..10], outputs[0].Values[..10].Max()));
    }

    /// <summary>The IR text after <paramref name="passes"/> (written with -o: in process, the IR on stdout goes to the console).</summary>
    private static string IrAfter(CaffeRealNet net, TempDir dir, string stem, params string[] passes)
    {
        var mir = dir.File(stem + ".mir");
        Opt([.. net.MoptInput(Models), .. passes, "-o", mir]);
        return File.ReadAllText(mir);
    }

    private static int LayerCount(string prototxt, string type) => Regex.Matches(prototxt, $"type:\\s*\"{type}\"").Count;

    private static int OpCount(string ir, string onnxOp) => Regex.Matches(ir, $"\"onnx\\.{onnxOp}\"").Count;
}
