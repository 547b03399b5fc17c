namespace Mopt.Ir;

/// <summary>
/// The canonicalization patterns of an operation, declared with its definition (MLIR's getCanonicalizationPatterns):
/// <c>--canonicalize</c> asks for them op by op and names no operation itself. Each pattern's
/// <see cref="RewritePattern.Root"/> is the operation declaring it; they are tried in the order given.
/// </summary>
public interface ICanonicalizationPatterns
{
    IReadOnlyList<RewritePattern> Patterns { get; }
}
