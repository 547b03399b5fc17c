using Mopt.Ir.Parsing;
using Mopt.Passes;
using Mopt.Tests.Numeric;

namespace Mopt.Tests.Passes;

public sealed class RoundWeightsTests
{
    [Fact]
    public void EightBitRoundingKeepsTopOneAndShrinksTheGzipSize()
    {
        var module = MirReader.ParseFile(Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir"));
        var result = Numerics.RunPasses(module, "round-weights{bits=8 min-size=100}");
        var diff = Assert.Single(result.Differences);
        Assert.Equal(1.0, diff.Top1Agreement);
        Assert.True(diff.MaxRelDiff is > 0 and < 0.05, $"max rel diff {diff.MaxRelDiff}");

        var stats = result.Runs.Single().Context.Counters.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(3, stats["tensors rounded"]); // conv1, conv2 and fc weights; biases and norms are under min-size
        Assert.True(stats["gzip bytes after"] < stats["gzip bytes before"]);
    }

    [Fact]
    public void WeightsAreCompressedForTheStatisticsOnlyWhenStatisticsAreRead()
    {
        var module = MirReader.ParseFile(Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir"));
        var pm = new PassManager { CollectStatistics = false };
        pm.Passes.Add(PassRegistry.Create("round-weights", "bits=8 min-size=100"));
        var stats = pm.Run(module).Single().Context.Counters.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(3, stats["tensors rounded"]);
        Assert.False(stats.ContainsKey("gzip bytes before"));
    }

    [Fact]
    public void EveryRoundedValueIsOneOfTheLevels()
    {
        var module = MirReader.ParseFile(Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir"));
        var pm = new PassManager();
        pm.Passes.Add(PassRegistry.Create("round-weights", "bits=3 min-size=100"));
        pm.Run(module);
        foreach (var op in module.AllOperations().Where(o => o.Name == Constants.ConstantOp))
        {
            var values = Constants.TryGet(op.Result, module)!.ToFloats();
            if (values.Length < 100) continue;
            Assert.True(values.Distinct().Count() <= 8, $"{op.Location.FirstName}: {values.Distinct().Count()} distinct values");
        }
    }
}
