using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Tests;

/// <summary>A test-only pass that leaves the IR broken: it changes the type of the value main returns.</summary>
public sealed class BreakIrPass : Pass
{
    public override string Name => "test-break-ir";
    public override string Summary => "Breaks the IR (test only)";

    public override void Run(MirModule module, PassContext context)
    {
        var ret = module.MainFunction.Return!;
        ret.GetOperand(0).Type = new TensorType(ElementType.F64, [99]);
        context.Count("broken");
    }
}

/// <summary>
/// A test-only pass that changes nothing and says so (<see cref="PassContext.MarkAllPreserved"/>); with
/// <paramref name="breakIt"/>, it breaks the IR as <see cref="BreakIrPass"/> does and still says so (a lying pass).
/// </summary>
public sealed class PreservingPass(bool breakIt = false) : Pass
{
    public override string Name => "test-preserve";
    public override string Summary => "Changes nothing and says so (test only)";

    public override void Run(MirModule module, PassContext context)
    {
        if (breakIt) module.MainFunction.Return!.GetOperand(0).Type = new TensorType(ElementType.F64, [99]);
        context.MarkAllPreserved();
    }
}

/// <summary>A test-only pattern that changes a Relu's result type through the rewriter: the IR it leaves is broken.</summary>
public sealed class BreakReluPattern(bool reportRewrite) : RewritePattern
{
    public override string Name => "Relu broken";
    public override string? Root => "onnx.Relu";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.Result.Type is TensorType { Element: var e } && e == ElementType.F64) return false;
        rewriter.ModifyInPlace(op, () => op.Result.Type = new TensorType(ElementType.F64, [99]));
        return reportRewrite;
    }
}

/// <summary>A test-only pass that runs one pattern with the greedy driver, saying it preserved everything when nothing applied.</summary>
public sealed class DriverPass(RewritePattern pattern) : Pass
{
    public override string Name => "test-driver";
    public override string Summary => "Runs one pattern (test only)";

    public override void Run(MirModule module, PassContext context)
    {
        if (GreedyPatternRewriteDriver.Apply(module, [pattern], context, Name) == 0) context.MarkAllPreserved();
    }
}

/// <summary>A test-only pass that gives up with an exception of the given kind.</summary>
public sealed class ThrowingPass(Exception toThrow) : Pass
{
    public override string Name => "test-throw";
    public override string Summary => "Throws (test only)";
    public override void Run(MirModule module, PassContext context) => throw toThrow;
}

/// <summary>A test-only pass that records that it ran.</summary>
public sealed class RecordingPass(string name, List<string> log) : Pass
{
    public override string Name => name;
    public override string Summary => "Records its run (test only)";

    public override void Run(MirModule module, PassContext context)
    {
        log.Add("run " + name);
        context.Count("ops seen", module.AllOperations().Count());
        context.Log("hello from " + name);
    }
}

/// <summary>A test-only pass with one option of each type.</summary>
public sealed class TypedOptionsPass : Pass
{
    public PassOption<int> Bits { get; } = new("bits", "bit width", 8, valid: v => v is 4 or 8 or 16);
    public PassOption<bool> PerChannel { get; } = new("per-channel", "one scale per output channel", false);
    public PassOption<double> Ratio { get; } = new("ratio", "fraction to prune", 0.5, valid: v => v is >= 0 and <= 1);
    public PassOption<string> Exclude { get; } = new("exclude", "names to leave alone", "");
    public PassOption<long> Seed { get; } = new("seed", "random seed", 1);
    public PassOption<double> Scale { get; } = new("scale", "a factor, any value", 1.0);

    public override string Name => "test-options";
    public override string Summary => "Has typed options (test only)";
    public override IReadOnlyList<PassOption> Options => [Bits, PerChannel, Ratio, Exclude, Seed, Scale];
    public override void Run(MirModule module, PassContext context) { }
}

/// <summary>
/// A test-only pass that changes nothing and records what op-name census it was handed and the one it asked for
/// (<see cref="PassContext.OpNamesAtStart"/>).
/// </summary>
public sealed class CensusProbePass : Pass
{
    public override string Name => "test-census-probe";
    public override string Summary => "Asks for the op-name census (test only)";

    public OpNameCensus? HandedOver { get; private set; }
    public OpNameCensus? Asked { get; private set; }

    public override void Run(MirModule module, PassContext context)
    {
        HandedOver = context.Census;
        Asked = context.OpNamesAtStart(module);
        context.MarkAllPreserved();
    }
}
