using Mopt.Backend.Graphviz;

namespace Mopt.Tests.Graphviz;

/// <summary>Why a test that renders with Graphviz's dot is skipped here (no dot on PATH; scripts/setup.sh installs graphviz); null when it runs.</summary>
public static class GraphvizAvailability
{
    public static string? SkipReason => GraphvizRenderer.FindDot() is null && !SharedModels.Required
        ? "needs Graphviz's dot on PATH (Debian package graphviz, which scripts/setup.sh installs)"
        : null;
}
