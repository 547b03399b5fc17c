namespace Mopt.Tests.Graphviz;

/// <summary>A theory that renders real models from ../shared/models with dot; skipped (with the reason) without either.</summary>
public sealed class GraphvizSharedModelsTheoryAttribute : TheoryAttribute
{
    public GraphvizSharedModelsTheoryAttribute() => Skip = SharedModels.SkipReason ?? GraphvizAvailability.SkipReason;
}
