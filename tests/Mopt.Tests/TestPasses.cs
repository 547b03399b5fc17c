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
