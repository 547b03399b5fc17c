using Mopt.Passes;

namespace Mopt.Tests;

/// <summary>--pass-pipeline strings and typed pass options.</summary>
public sealed class PipelineParserTests
{
    [Fact]
    public void CommaSeparatedList()
    {
        var passes = PipelineParser.Parse("canonicalize,dce");
        Assert.Equal(["canonicalize", "dce"], passes.Select(p => p.Name));
        Assert.IsType<Canonicalize>(passes[0]);
        Assert.IsType<DeadCodeElimination>(passes[1]);
        Assert.Equal(["dce", "canonicalize"], PipelineParser.Parse("  dce ,\tcanonicalize  ").Select(p => p.Name));
        Assert.Empty(PipelineParser.Parse(""));
    }

    [Fact]
    public void MlirOptAnchorsAreAccepted()
    {
        Assert.Equal(["canonicalize"], PipelineParser.Parse("builtin.module(func.func(canonicalize))").Select(p => p.Name));
        Assert.Equal(["canonicalize", "dce", "canonicalize"],
            PipelineParser.Parse("builtin.module(func.func(canonicalize, dce), canonicalize)").Select(p => p.Name));
    }

    [Fact]
    public void EachPassIsAFreshInstance()
    {
        var passes = PipelineParser.Parse("dce,dce");
        Assert.NotSame(passes[0], passes[1]);
    }

    [Fact]
    public void OptionsSplitIntoKeysAndValues()
    {
        var pairs = PipelineParser.SplitOptions("k=v k2=\"x y\" flag k3='a b' k4={nested k=v} k5=").ToList();
        Assert.Equal([("k", "v"), ("k2", "x y"), ("flag", "true"), ("k3", "a b"), ("k4", "nested k=v"), ("k5", "")], pairs);
    }

    [Fact]
    public void OptionsOnAPassWithoutOptionsAreRefused()
    {
        // `a,b{k=v k2="x y"}` reaches b's options, and b (dce) has none.
        var e = Assert.Throws<PipelineException>(() => PipelineParser.Parse("canonicalize,dce{k=v k2=\"x y\"}"));
        Assert.Equal("pass 'dce' takes no options, but was given 'k'", e.Message);
    }

    [Fact]
    public void UnknownPass()
    {
        var e = Assert.Throws<PipelineException>(() => PipelineParser.Parse("canonicalize,fold-everything"));
        Assert.Equal("unknown pass 'fold-everything' (see --list-passes)", e.Message);
        e = Assert.Throws<PipelineException>(() => PipelineParser.Parse("builtin.module(func.func(loop-unroll))"));
        Assert.Equal("unknown pass 'loop-unroll' (see --list-passes)", e.Message);
    }

    [Theory]
    [InlineData("canonicalize dce", "unexpected 'd' at offset 13 of the pass pipeline")]
    [InlineData("canonicalize,,dce", "expected a pass name at offset 13 of the pass pipeline")]
    [InlineData("builtin.module(canonicalize", "'builtin.module(' is never closed in the pass pipeline")]
    [InlineData("canonicalize)", "unexpected ')' at offset 12 of the pass pipeline")]
    [InlineData("dce{k=v", "a '{' in the pass pipeline is never closed")]
    [InlineData("dce{k=\"v}", "option 'k': the quote is never closed")]
    public void MalformedPipelines(string pipeline, string message)
    {
        var e = Assert.Throws<PipelineException>(() => PipelineParser.Parse(pipeline));
        Assert.Equal(message, e.Message);
    }

    // ------------------------------------------------------------------ typed options, on a test-only pass

    /// <summary>A test-only pass is not in the registry; its options go through the same reader.</summary>
    private static void Apply(Pass pass, string options) => pass.SetOptions(options);

    [Fact]
    public void TypedOptionsAreParsed()
    {
        var pass = new TypedOptionsPass();
        Assert.Equal("test-options", pass.Describe());
        Apply(pass, "bits=4 per-channel ratio=0.25 exclude=\"Conv_1 Conv_2\" seed=-9000000000 scale=-2.5e+3");
        Assert.Equal(4, pass.Bits.Value);
        Assert.True(pass.PerChannel.Value);
        Assert.Equal(0.25, pass.Ratio.Value);
        Assert.Equal("Conv_1 Conv_2", pass.Exclude.Value);
        Assert.Equal(-9_000_000_000L, pass.Seed.Value);
        Assert.Equal(-2500.0, pass.Scale.Value);
        Assert.All(pass.Options, o => Assert.True(o.IsSet));
        Assert.Equal(["integer", "bool", "number", "string", "integer", "number"], pass.Options.Select(o => o.TypeName));
    }

    [Fact]
    public void UnsetOptionsKeepTheirDefaults()
    {
        var pass = new TypedOptionsPass();
        Apply(pass, "ratio=1e-3");
        Assert.Equal(0.001, pass.Ratio.Value);
        Assert.Equal(8, pass.Bits.Value);
        Assert.False(pass.Bits.IsSet);
        Assert.Equal("test-options{ratio=0.001}", pass.Describe());
    }

    [Theory]
    [InlineData("per-channel=false", false)]
    [InlineData("per-channel=0", false)]
    [InlineData("per-channel=1", true)]
    [InlineData("per-channel=true", true)]
    [InlineData("per-channel", true)]
    public void BoolOptionSpellings(string text, bool expected)
    {
        var pass = new TypedOptionsPass();
        Apply(pass, text);
        Assert.Equal(expected, pass.PerChannel.Value);
    }

    [Theory]
    [InlineData("bits=eight", "bits", "eight")]
    [InlineData("bits=99999999999", "bits", "99999999999")]
    [InlineData("bits=4.0", "bits", "4.0")]
    [InlineData("per-channel=yes", "per-channel", "yes")]
    [InlineData("ratio=half", "ratio", "half")]
    [InlineData("seed=1e3", "seed", "1e3")]
    public void BadTypedValues(string text, string option, string value)
    {
        var e = Assert.Throws<PipelineException>(() => Apply(new TypedOptionsPass(), text));
        Assert.Matches($"^pass 'test-options': option '{option}' expects an? [a-z0-9]+, not '{System.Text.RegularExpressions.Regex.Escape(value)}'$", e.Message);
    }

    [Theory]
    [InlineData("bits=5", "bits", "5")]
    [InlineData("ratio=2", "ratio", "2")]
    [InlineData("ratio=-0.5", "ratio", "-0.5")]
    public void ValuesOutsideTheAllowedSet(string text, string option, string value)
    {
        var e = Assert.Throws<PipelineException>(() => Apply(new TypedOptionsPass(), text));
        // the option's description follows, so the user sees what it does take
        Assert.StartsWith($"pass 'test-options': option '{option}' does not accept '{value}' ({option}: ", e.Message);
    }

    [Fact]
    public void DoubleOptionRefusesThousandsSeparators()
    {
        var pass = new TypedOptionsPass();
        var e = Assert.Throws<PipelineException>(() => Apply(pass, "scale=1,5"));
        Assert.Contains("'1,5'", e.Message);
    }

    [Fact]
    public void UnknownOptionListsTheKnownOnes()
    {
        var e = Assert.Throws<PipelineException>(() => Apply(new TypedOptionsPass(), "bits=8 method=entropy"));
        Assert.Equal("pass 'test-options' has no option 'method' (it has: bits, per-channel, ratio, exclude, seed, scale)", e.Message);
    }

    [Fact]
    public void BadValueLeavesTheOptionAsItWas()
    {
        var pass = new TypedOptionsPass();
        Assert.Throws<PipelineException>(() => Apply(pass, "bits=16 ratio=oops"));
        Assert.Equal(16, pass.Bits.Value);
        Assert.Equal(0.5, pass.Ratio.Value);
        Assert.False(pass.Ratio.IsSet);
    }

    [Fact]
    public void DescribeReadsBackAsTheSameOptions()
    {
        var pass = new TypedOptionsPass();
        Apply(pass, "exclude=\"a b\" bits=4");
        var described = pass.Describe();
        var inner = described[(described.IndexOf('{') + 1)..^1];
        Assert.Equal([("bits", "4"), ("exclude", "a b")], PipelineParser.SplitOptions(inner).ToList());
    }

    [Fact]
    public void IntOptionTypeNameReadsNaturally()
    {
        Assert.Equal("integer", new TypedOptionsPass().Bits.TypeName);
    }

    // ------------------------------------------------------------------ through mopt-opt's command line

    [Fact]
    public void CommandLineReportsPipelineErrorsWithExitOne()
    {
        var (exit, _, stderr) = Mir.Opt(Mir.ExamplePath, "--pass-pipeline=canonicalize,nope");
        Assert.Equal(1, exit);
        Assert.Equal("mopt-opt: error: unknown pass 'nope' (see --list-passes)", stderr.TrimEnd());

        (exit, _, stderr) = Mir.Opt(Mir.ExamplePath, "--canonicalize=max-iterations=3");
        Assert.Equal(1, exit);
        Assert.Equal("mopt-opt: error: pass 'canonicalize' takes no options, but was given 'max-iterations'", stderr.TrimEnd());

        (exit, _, stderr) = Mir.Opt(Mir.ExamplePath, "--fold-everything");
        Assert.Equal(1, exit);
        Assert.StartsWith("mopt-opt: error: unknown option '--fold-everything'", stderr);
    }

    [Fact]
    public void ListPassesShowsEveryRegisteredPass()
    {
        var (exit, stdout, _) = Mir.Opt("--list-passes");
        Assert.Equal(0, exit);
        foreach (var entry in PassRegistry.All)
            Assert.Contains($"--{entry.Name}", stdout);
    }
}
