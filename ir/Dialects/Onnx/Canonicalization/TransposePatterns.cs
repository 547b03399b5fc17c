using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Canonicalization;

internal static class TransposeFacts
{
    /// <summary>The permutation: the <c>perm</c> attribute, else (the default) the reversed axes of a ranked input.</summary>
    public static long[]? Perm(Operation transpose)
    {
        if (transpose.ReadInts("perm") is { } perm) return perm;
        if (transpose.OperandCount == 1 && transpose.GetOperand(0).Type is TensorType { Shape: { } s })
            return Enumerable.Range(0, s.Count).Reverse().Select(i => (long)i).ToArray();
        return null;
    }

    public static bool IsIdentity(long[] perm) => perm.Select((p, i) => p == i).All(b => b);
}

/// <summary>
/// <code>
/// Before: %1 = "onnx.Transpose"(%0) {perm = [0, 1, 2]}
/// After:  users of %1 read %0
/// </code>
/// Applies when the permutation (or the default reversal, for rank 0 or 1) is the identity and the types are equal.
/// </summary>
internal sealed class RemoveNoOpTranspose : RewritePattern
{
    public override string Name => "no-op Transpose removed";
    public override string? Root => "onnx.Transpose";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount != 1 || op.Results.Count != 1) return false;
        if (TransposeFacts.Perm(op) is not { } perm || !TransposeFacts.IsIdentity(perm)) return false;
        return Forwarding.Forward(op, op.GetOperand(0), rewriter);
    }
}

/// <summary>
/// <code>
/// Before: %1 = "onnx.Transpose"(%0) {perm = p1} ; %2 = "onnx.Transpose"(%1) {perm = p2}
/// After:  users of %2 read %0                                   when p1[p2[i]] == i for all i ("pairs removed")
///         %2 = "onnx.Transpose"(%0) {perm = q}, q[i] = p1[p2[i]]  otherwise ("composed"), loc(fused["outer", "inner"])
/// </code>
/// The first Transpose goes when nothing else reads it. Skipped (recorded) when a permutation is neither written nor
/// implied by a known rank, or when an identity pair would change the type users see.
/// </summary>
internal sealed class FoldTransposePair(bool toIdentity) : RewritePattern
{
    public override string Name => toIdentity ? "Transpose pairs removed" : "Transposes composed";
    public override string? Root => "onnx.Transpose";

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.OperandCount != 1 || op.Results.Count != 1) return false;
        if (OnnxFacts.Producer(op.GetOperand(0), "onnx.Transpose") is not { OperandCount: 1, Results.Count: 1 } inner) return false;
        var outerPerm = TransposeFacts.Perm(op);
        var innerPerm = TransposeFacts.Perm(inner);
        if (outerPerm is null || innerPerm is null)
        {
            if (toIdentity) rewriter.NotifyMatchFailure(op, "cannot fold with the Transpose before it: a permutation is unknown (no perm and no rank)");
            return false;
        }
        if (outerPerm.Length != innerPerm.Length || outerPerm.Any(p => p < 0 || p >= innerPerm.Length)) return false;
        var composed = outerPerm.Select(p => innerPerm[p]).ToArray();
        var source = inner.GetOperand(0);
        if (TransposeFacts.IsIdentity(composed) != toIdentity) return false;
        if (toIdentity) return Forwarding.Forward(op, source, rewriter);
        // The inner Transpose goes if nothing else reads it; the composed one carries its location.
        rewriter.ModifyInPlace(op, () =>
        {
            op.SetOperand(0, source);
            op.SetAttr("perm", ArrayAttr.OfInts(composed));
        }, absorbs: inner);
        return true;
    }
}
