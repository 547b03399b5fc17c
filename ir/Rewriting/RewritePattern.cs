namespace Mopt.Ir;

/// <summary>
/// A local rewrite (MLIR's RewritePattern): match one operation, then change the IR through the
/// <see cref="PatternRewriter"/> it is given, never directly, so that the driver hears of every change and what the
/// rewrite leaves dead goes at once. A pattern that does not apply leaves the IR untouched and may say why with
/// <see cref="PatternRewriter.NotifyMatchFailure"/>.
/// </summary>
public abstract class RewritePattern
{
    /// <summary>What a successful rewrite is counted as in the statistics, e.g. "Identity removed".</summary>
    public abstract string Name { get; }

    /// <summary>The operation name this pattern starts from, or null for any operation.</summary>
    public virtual string? Root => null;

    /// <summary>Rewrites <paramref name="op"/> and returns true, or leaves the IR untouched and returns false.</summary>
    public abstract bool MatchAndRewrite(Operation op, PatternRewriter rewriter);
}
