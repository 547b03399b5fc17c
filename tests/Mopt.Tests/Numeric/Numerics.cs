using Mopt.Backend.Runtime;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Passes;

namespace Mopt.Tests.Numeric;

/// <summary>
/// The numeric half of a pass test: the model before and after the passes, run in ONNX Runtime on the same
/// seeded inputs, must give the same outputs (within a relative tolerance).
/// </summary>
public static class Numerics
{
    public sealed record Result(MirModule After, IReadOnlyList<OutputDifference> Differences, IReadOnlyList<PassRun> Runs)
    {
        public double MaxRelDiff => Differences.Max(d => d.MaxRelDiff);
    }

    /// <summary>Runs <paramref name="pipeline"/> (as --pass-pipeline) on the module and compares outputs.</summary>
    public static Result RunPasses(MirModule module, string pipeline, int seed = 0, long dynamicDim = 1)
    {
        var before = ModelProbes.ToOnnxBytes(module);
        var pm = new PassManager { Services = TestRuntime.Services }; // as mopt-opt: ONNX Runtime behind the passes
        pm.Passes.AddRange(PipelineParser.Parse(pipeline));
        var runs = pm.Run(module);
        var after = ModelProbes.ToOnnxBytes(module);

        using var original = new OrtRunner(before, what: "original model");
        using var rewritten = new OrtRunner(after, what: "rewritten model");
        var inputs = RandomInputs.For(original.Inputs, seed, dynamicDim);
        var expected = original.Run(inputs);
        var actual = rewritten.Run(inputs);
        var diffs = original.OutputNames.Select((name, i) =>
            OutputDifference.Compare(name, expected[name], actual[actual.ContainsKey(name) ? name : rewritten.OutputNames[i]])).ToList();
        return new Result(module, diffs, runs);
    }

    /// <summary>Asserts the passes keep every output within <paramref name="tolerance"/> (max relative diff) and the shapes.</summary>
    public static Result AssertPreserves(MirModule module, string pipeline, double tolerance = 1e-5, int seed = 0)
    {
        var result = RunPasses(module, pipeline, seed);
        foreach (var d in result.Differences)
        {
            Assert.True(d.ShapesMatch, $"{pipeline}: output '{d.Name}' changed shape");
            Assert.True(d.MaxRelDiff <= tolerance, $"{pipeline}: output '{d.Name}' differs by {d.MaxRelDiff:E3} relative (tolerance {tolerance:E1})");
        }
        return result;
    }

    public static Result AssertPreserves(string mirText, string pipeline, double tolerance = 1e-5, int seed = 0) =>
        AssertPreserves(MirReader.ParseText(mirText, "test.mir"), pipeline, tolerance, seed);

    /// <summary>How many operations named <paramref name="opName"/> the module has.</summary>
    public static int Count(MirModule module, string opName) => module.AllOperations().Count(o => o.Name == opName);
}
