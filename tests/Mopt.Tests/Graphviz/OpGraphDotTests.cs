using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Mopt.Backend.Graphviz;
using Mopt.Ir;

namespace Mopt.Tests.Graphviz;

/// <summary>The DOT text itself (the library's call, no dot needed): speed, the node count, the diff's legend, bad arguments.</summary>
public sealed partial class OpGraphDotTests
{
    /// <summary>A chain of <paramref name="blocks"/> Conv + Relu pairs, each Conv with a weight and a bias.</summary>
    private static MirModule Chain(int blocks)
    {
        var sb = new StringBuilder("module @chain {\n  func.func @main(%x: tensor<1x8x4x4xf32> {mo.name = \"x\"}) -> (tensor<1x8x4x4xf32> {mo.name = \"y\"}) {\n");
        string last = "%x";
        for (int i = 0; i < blocks; i++)
        {
            sb.Append($"    %w{i} = \"onnx.Constant\"() {{value = dense<0.5> : tensor<8x8x1x1xf32>}} : () -> tensor<8x8x1x1xf32> loc(\"w{i}\")\n");
            sb.Append($"    %b{i} = \"onnx.Constant\"() {{value = dense<0.0> : tensor<8xf32>}} : () -> tensor<8xf32> loc(\"b{i}\")\n");
            sb.Append($"    %c{i} = \"onnx.Conv\"({last}, %w{i}, %b{i}) {{kernel_shape = [1, 1]}} : (tensor<1x8x4x4xf32>, tensor<8x8x1x1xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32> loc(\"conv{i}\")\n");
            sb.Append($"    %r{i} = \"onnx.Relu\"(%c{i}) : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> loc(\"relu{i}\")\n");
            last = $"%r{i}";
        }
        sb.Append($"    return {last} : tensor<1x8x4x4xf32>\n  }}\n}}\n");
        return Mir.Parse(sb.ToString(), "chain.mir");
    }

    [Fact]
    public void ThousandOpGraphTakesMilliseconds()
    {
        var module = Chain(500);
        OpGraphDot.Write(module); // compiled once
        var clock = Stopwatch.StartNew();
        var dot = OpGraphDot.Write(module);
        var elapsed = clock.Elapsed;

        Assert.Equal(1000 + 2, NodeLine().Matches(dot).Count);
        Assert.Equal(1000 + 1, EdgeLine().Matches(dot).Count);
        Assert.DoesNotContain("<B>Constant</B>", dot);
        Assert.True(elapsed < TimeSpan.FromMilliseconds(250), $"DOT of 1,000 ops took {elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public void DiffLegendCountsEveryNode()
    {
        var before = Chain(20);
        var after = Chain(20);
        // Remove the last Relu (its Conv then feeds the return), rename one Conv, change another's attribute.
        var main = after.MainFunction;
        var relus = main.Body.Operations.Where(o => o.Name == "onnx.Relu").ToList();
        relus[^1].Result.ReplaceAllUsesWith(relus[^1].GetOperand(0));
        relus[^1].Erase();
        var convs = main.Body.Operations.Where(o => o.Name == "onnx.Conv").ToList();
        convs[3].Location = Location.Named("renamed");
        convs[5].SetAttr("kernel_shape", ArrayAttr.Of([IntegerAttr.I64(1), IntegerAttr.I64(2)]));

        var dot = OpGraphDot.Write(after, before, new OpGraphOptions { DiffAgainst = "before.mir" });

        int Legend(string what) => int.Parse(Regex.Match(dot, ">" + what + @" (\d+)</FONT>").Groups[1].Value);
        // removed: relu19 and conv3 (by name); added: renamed; changed: conv5 (attribute), conv4's input X (from an added op: not a change)
        Assert.Equal(2, Legend(@"removed \(dashed\)"));
        Assert.Equal(1, Legend("added"));
        Assert.Equal(1, Legend("changed"));
        // the legend counts ops, as the title does: the title's ops are unchanged + added + changed, and every node drawn
        // is one of those, a removed op's ghost, the argument or the result
        int ops = int.Parse(Regex.Match(dot, @"</B>  (\d+) ops").Groups[1].Value);
        Assert.Equal(ops, Legend("unchanged") + Legend("added") + Legend("changed"));
        Assert.Equal(NodeLine().Matches(dot).Count, ops + Legend(@"removed \(dashed\)") + 2);
        Assert.Contains("attrs kernel_shape", dot);
        Assert.Contains("against before.mir", dot);
    }

    [Fact]
    public void NullModuleIsRejected() =>
        Assert.Equal("module", Assert.Throws<ArgumentNullException>(() => OpGraphDot.Write(null!)).ParamName);

    [GeneratedRegex(@"^\s+[nargz][0-9]+ \[label=", RegexOptions.Multiline)]
    private static partial Regex NodeLine();

    [GeneratedRegex(@"^\s+[nargz][0-9]+ -> [nargz][0-9]+ \[", RegexOptions.Multiline)]
    private static partial Regex EdgeLine();
}
