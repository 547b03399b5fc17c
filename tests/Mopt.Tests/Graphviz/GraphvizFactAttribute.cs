using Mopt.Backend.Graphviz;

namespace Mopt.Tests.Graphviz;

/// <summary>Why a test that renders with Graphviz's dot is skipped here (no dot on PATH; scripts/setup.sh installs graphviz); null when it runs.</summary>
public static class GraphvizAvailability
{
    public static string? SkipReason => GraphvizRenderer.FindDot() is null && !SharedModels.Required
        ? "needs Graphviz's dot on PATH (Debian package graphviz, which scripts/setup.sh installs)"
        : null;
}

/// <summary>A fact that renders with dot; skipped (with the reason) without it.</summary>
public sealed class GraphvizFactAttribute : FactAttribute
{
    public GraphvizFactAttribute() => Skip = GraphvizAvailability.SkipReason;
}

/// <summary>A theory that renders real models from ../shared/models with dot; skipped (with the reason) without either.</summary>
public sealed class GraphvizSharedModelsTheoryAttribute : TheoryAttribute
{
    public GraphvizSharedModelsTheoryAttribute() => Skip = SharedModels.SkipReason ?? GraphvizAvailability.SkipReason;
}
