using System.Runtime.InteropServices;
using Mopt.Backend.Runtime;
using Mopt.Frontend.PaddleLite;
using Mopt.Ir;
using Mopt.Tests.Onnx;
using Mopt.Tests.Paddle;

namespace Mopt.Tests.PaddleLite;

/// <summary>
/// Issue 14 item 5 on real models: the three Paddle models of shared/models/paddle, a Caffe net and an ONNX model written
/// as .nb re-import to the IR the .pdmodel route gives, and run in ONNX Runtime as the original does.
/// </summary>
public sealed class LiteRealModelTests
{
    private static string Opt(params string[] args)
    {
        var (exit, stdout, stderr) = Mir.Opt(args);
        Assert.True(exit == 0, $"mopt-opt {string.Join(" ", args)}: {stderr}");
        return stdout;
    }

    public static TheoryData<string, long[]> PaddleNets() => new()
    {
        { "paddle2onnx_fit_a_line", [2, 13] },
        { "paddlelite_simple_model/model.pdmodel", [1, 3, 224, 224] },
        { "paddlemobile_resnet_cifar", [2, 3, 32, 32] },
    };

    [SharedModelsTheory]
    [MemberData(nameof(PaddleNets))]
    public void PaddleModelsWrittenAsNbReimportAsThePdmodelAndRunTheSame(string name, long[] inputShape)
    {
        using var dir = new TempDir();
        var source = Path.Combine(TestPaths.SharedModels, "paddle", name);
        Opt(source, "-o", dir.File("m.nb"));
        Opt(source, "-o", dir.File("m.pdmodel"));
        var viaNb = Opt(dir.File("m.nb"));
        Assert.Equal(Opt(dir.File("m.pdmodel")), viaNb);
        Assert.Equal(Opt(source), viaNb);
        var files = LiteModelFile.Read(dir.File("m.nb"));
        Assert.Equal(Mopt.Frontend.Paddle.PaddleModelFiles.Read(source).Parameters.Keys.Order(StringComparer.Ordinal), files.Parameters.Keys.Order(StringComparer.Ordinal));

        Opt(source, "-o", dir.File("direct.onnx"));
        Opt(dir.File("m.nb"), "-o", dir.File("back.onnx"));
        var input = PaddleLoweringCheck.Values(21, inputShape.Aggregate(1L, (a, d) => a * d), -1, 1);
        float[] Run(string onnx)
        {
            using var ort = new OrtRunner(File.ReadAllBytes(onnx));
            var feed = new Dictionary<string, NpyArray> { [ort.InputNames.Single()] = new(ElementType.F32, inputShape, MemoryMarshal.AsBytes(input.AsSpan()).ToArray()) };
            return MemoryMarshal.Cast<byte, float>(ort.Run(feed).Values.Single().Data).ToArray();
        }
        Assert.Equal(Run(dir.File("direct.onnx")), Run(dir.File("back.onnx")));
    }

    /// <summary>Caffe → .nb (through ONNX and paddle.*, after deploy) → ONNX: Caffe → ONNX's outputs.</summary>
    [SharedModelsFact]
    public void CaffeNetWrittenAsNbKeepsItsOutputs()
    {
        var net = Caffe.CaffeRealNets.Named("mtcnn-det2");
        var models = Caffe.CaffeRealNets.Models;
        using var dir = new TempDir();
        Opt([.. net.MoptInput(models), "--pipeline=deploy", "-o", dir.File("direct.onnx")]);
        Opt([.. net.MoptInput(models), "--pipeline=deploy", "-o", dir.File("m.nb")]);
        Opt([.. net.MoptInput(models), "--pipeline=deploy", "-o", dir.File("m.pdmodel")]);
        Assert.Equal(Opt(dir.File("m.pdmodel")), Opt(dir.File("m.nb")));
        Opt(dir.File("m.nb"), "-o", dir.File("back.onnx"));
        var input = net.Feed(models);
        var expected = Caffe.CaffeReferee.RunOrt(dir.File("direct.onnx"), [input], net.Outputs);
        var actual = Caffe.CaffeReferee.RunOrt(dir.File("back.onnx"), [input], net.Outputs);
        Assert.True(Caffe.CaffeReferee.MaxDifference(actual, expected) <= 1e-6, $"{net.Name}: {Caffe.CaffeReferee.MaxDifference(actual, expected):E2}");
    }

    /// <summary>ONNX → .nb → ONNX: the original's outputs on its own test data.</summary>
    [SharedModelsFact]
    public void OnnxModelWrittenAsNbKeepsItsOutputs()
    {
        using var dir = new TempDir();
        var original = Path.Combine(OnnxTestSupport.OnnxModels, "connxr_mnist", "model.onnx");
        Opt(original, "-o", dir.File("m.nb"));
        Opt(dir.File("m.nb"), "-o", dir.File("back.onnx"));
        var inputs = OnnxTestSupport.TestInputs(original, Path.Combine(OnnxTestSupport.OnnxModels, "connxr_mnist", "test_data_set_0"));
        var expected = OnnxTestSupport.Run(original, inputs);
        var actual = OnnxTestSupport.Run(dir.File("back.onnx"), inputs);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(OnnxTestSupport.MaxAbsDiff(expected[i].Value, actual[i].Value) <= 1e-5f, $"output {expected[i].Name}");
    }
}
