namespace Mopt.Ir;

/// <summary>A fixed list of canonicalization patterns.</summary>
public sealed class CanonicalizationPatterns(params RewritePattern[] patterns) : ICanonicalizationPatterns
{
    public IReadOnlyList<RewritePattern> Patterns { get; } = patterns;
}
