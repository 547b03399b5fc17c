namespace Mopt.Tests.Graphviz;

/// <summary>A fact that renders with dot; skipped (with the reason) without it.</summary>
public sealed class GraphvizFactAttribute : FactAttribute
{
    public GraphvizFactAttribute() => Skip = GraphvizAvailability.SkipReason;
}
