namespace Mopt.Ir;

/// <summary>
/// Why an operation was not folded. <see cref="TryFallback"/>: the folder does not cover this case (a type, an
/// attribute form), but the operation itself is fine, so a fallback evaluator may try it. Without it the case is one
/// no evaluator should run (an integer division by zero, a result over the size limit).
/// </summary>
public sealed class FoldException(string reason, bool tryFallback = false) : Exception(reason)
{
    public bool TryFallback { get; } = tryFallback;

    /// <summary>The folder does not handle this; the fallback may.</summary>
    public static FoldException Unsupported(string reason) => new(reason, tryFallback: true);
}
