using Mopt.Dialects.Onnx;
using Mopt.Onnx.Proto;
using Mopt.Tools.Opt;
using static Mopt.Tests.Onnx.OnnxTestSupport;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Tests.Onnx;

/// <summary>
/// Opsets above 21, up to 26 (the newest ONNX Runtime 1.31 runs): read, rewritten up to 25 (whose changes are element
/// types and new operators), left as they are at 26 (newer than mopt's definitions know), written back at the same
/// opset, and run in ONNX Runtime with the original's outputs.
/// </summary>
public sealed class OnnxNewOpsetTests
{
    /// <summary>x -> Identity -> Mul by a constant -> Relu.</summary>
    private static ModelProto Model(long opset) =>
        OnnxTestSupport.Model(Graph("g",
            [
                Node("Identity", ["x"], ["xi"], "identity"),
                Node("Mul", ["xi", "k"], ["m"], "mul"),
                Node("Relu", ["m"], ["y"], "relu"),
            ],
            [Vi("x", DataType.Float, 2, 3)], [Vi("y", DataType.Float, 2, 3)],
            [FloatTensor("k", [3], 0.5f, -2f, 3f)]), opset: opset, irVersion: 10);

    [Theory]
    [InlineData(22)]
    [InlineData(25)]
    [InlineData(26)]
    public void DeployKeepsTheOpsetAndTheOutputs(long opset)
    {
        using var tmp = new TempDir();
        var path = tmp.File("m.onnx");
        Save(Model(opset), path);
        List<(string, HostTensor)> input = [("x", HostTensor.Floats([2, 3], 1, -2, 3, -4, 5, -6))];
        var expected = Run(path, input);

        var stderr = new StringWriter();
        Assert.Equal(0, OptTool.Run([path, "--pipeline=deploy", "--debug", "-o", tmp.File("dep.onnx")], new StringWriter(), stderr));
        var deployed = Load(tmp.File("dep.onnx"));
        Assert.Equal(opset, deployed.OpsetImport.Single(o => o.Domain.Length == 0).Version);
        AssertBitIdentical(expected, Run(tmp.File("dep.onnx"), input));
        bool identityKept = deployed.Graph.Node.Any(n => n.OpType == "Identity");
        if (opset <= OnnxLegacy.NewestKnownOpset) Assert.False(identityKept, "canonicalize removes the Identity");
        else
        {
            Assert.True(identityKept, "at an opset newer than mopt knows, rewrites leave the operators alone");
            Assert.Contains($"mopt's op definitions go to opset {OnnxLegacy.NewestKnownOpset}", stderr.ToString());
        }
    }
}
