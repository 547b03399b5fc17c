using Mopt.Ir;

namespace Mopt.Dialects.Mo;

/// <summary>
/// <c>mo.*</c>: mopt's own bookkeeping. Attributes (<c>mo.name</c> on graph inputs and outputs, <c>mo.outputs</c> the
/// source's tensor names of an op's results, <c>mo.source</c>) and the structural ops of imported subgraphs.
/// </summary>
public static class MoDialect
{
    public const string Name = "mo";

    /// <summary>The source framework's names of an operation's results (an array of strings).</summary>
    public const string OutputsAttr = "mo.outputs";
    /// <summary>The source framework's name of a graph input or output (a function argument or result attribute).</summary>
    public const string NameAttr = "mo.name";

    public static Dialect Dialect { get; } = new(Name, "mopt's bookkeeping: names, sources, subgraph structure",
    [
        new OpDefinition("mo.yield")
        {
            Summary = "Ends a subgraph region, giving its results", Operands = [new SlotDefinition("results", Arity.Variadic)], Traits = OpTraits.Terminator,
        },
    ]);
}
