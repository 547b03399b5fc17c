using Mopt.Ir.Parsing;

namespace Mopt.Tests.Numeric;

public sealed class NumericHarnessTests
{
    [Fact]
    public void CanonicalizeAndDceKeepTheExampleExact()
    {
        var module = MirReader.ParseFile(Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir"));
        var result = Numerics.AssertPreserves(module, "canonicalize,dce", tolerance: 0);
        Assert.Equal(0, Numerics.Count(result.After, "onnx.Identity"));
        Assert.Equal(0, Numerics.Count(result.After, "onnx.Sigmoid"));
    }

    [Fact]
    public void TheHarnessSeesAChangedModel()
    {
        // A pass-free pipeline on a module, compared with itself, is exact; the harness must also notice a change.
        var module = MirReader.ParseFile(Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir"));
        var relu = module.AllOperations().First(o => o.Name == "onnx.Relu");
        relu.Name = "onnx.Sigmoid";
        var before = Mopt.Backend.Runtime.ModelProbes.ToOnnxBytes(MirReader.ParseFile(Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir")));
        var after = Mopt.Backend.Runtime.ModelProbes.ToOnnxBytes(module);
        using var a = new Mopt.Backend.Runtime.OrtRunner(before);
        using var b = new Mopt.Backend.Runtime.OrtRunner(after);
        var inputs = Mopt.Backend.Runtime.RandomInputs.For(a.Inputs, 0);
        var d = Mopt.Backend.Runtime.OutputDifference.Compare("p", a.Run(inputs)["probabilities"], b.Run(inputs)["probabilities"]);
        Assert.True(d.MaxRelDiff > 1e-3);
    }
}
