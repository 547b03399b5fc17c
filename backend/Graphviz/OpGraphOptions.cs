using Mopt.Ir;

namespace Mopt.Backend.Graphviz;

/// <summary>How <see cref="OpGraphDot.Write"/> draws a module.</summary>
public sealed record OpGraphOptions
{
    /// <summary>The graph's title (default: the module's name).</summary>
    public string? Title { get; init; }

    /// <summary>What the diff's legend calls the other model (default: "the other model").</summary>
    public string? DiffAgainst { get; init; }

    /// <summary>Where ops' definitions come from: which ops are constants, what their operands are called (default: the standard dialects).</summary>
    public DialectRegistry? Dialects { get; init; }
}
