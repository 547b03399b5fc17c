using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--canonicalize</c>: small local simplifications that never change what the model computes, as MLIR's: each
/// operation declares its canonicalization patterns with its definition (<see cref="ICanonicalizationPatterns"/>),
/// and this pass runs, with the greedy driver, those of each operation it meets (asking its definition once per name).
/// It names no operation itself.
/// <code>
/// Before: %1 = "onnx.Identity"(%0) ; "onnx.Relu"(%1)
/// After:  "onnx.Relu"(%0)
/// </code>
/// The ONNX patterns live in <c>ir/Dialects/Onnx/Canonicalization/</c>, one file per family, each with its exact
/// conditions:
/// <list type="bullet">
/// <item>pass-throughs (<c>NoOpPatterns.cs</c>): Identity, Dropout in inference, Cast or CastLike to the same type;</item>
/// <item>Reshape (<c>ReshapePatterns.cs</c>): no-op Reshape, Reshape of a Reshape;</item>
/// <item>Transpose (<c>TransposePatterns.cs</c>): identity permutation, Transpose of a Transpose (removed or composed);</item>
/// <item>Pad and Slice (<c>PadSlicePatterns.cs</c>): all-zero Pad, Slice that takes everything;</item>
/// <item>Constant (<c>ConstantPatterns.cs</c>): a Constant node becomes an initializer.</item>
/// </list>
/// An operation is only removed when its result has the same type as the value replacing it; a rewrite that cannot be
/// proven (non-constant shape, unknown dimension, training-mode Dropout...) is recorded with its reason when the
/// operation is still there at the end. What a rewrite leaves unused (a shape constant, the first of two Transposes)
/// is erased at once.
/// </summary>
public sealed class Canonicalize : Pass
{
    public override string Name => "canonicalize";
    public override string Summary => "Remove no-op operations (onnx.Identity) and apply small local simplifications (Dropout, Reshape, Transpose, Cast, Pad, Slice, Constant nodes)";

    public override void Run(MirModule module, PassContext context)
    {
        if (GreedyPatternRewriteDriver.Apply(module, opName => PatternsOf(context.Dialects, opName), context, Name) == 0) context.MarkAllPreserved();
    }

    /// <summary>The canonicalization patterns the definition of <paramref name="opName"/> declares (rooted at it).</summary>
    public static IReadOnlyList<RewritePattern> PatternsOf(DialectRegistry registry, string opName)
    {
        if (registry.Find(opName)?.Interface<ICanonicalizationPatterns>()?.Patterns is not { } patterns) return [];
        // Asked once per op name on every run: the declared list itself when every pattern in it roots here (the usual case).
        for (int i = 0; i < patterns.Count; i++)
            if (patterns[i].Root is { } root && root != opName)
                return patterns.Where(p => p.Root is null || p.Root == opName).ToList();
        return patterns;
    }
}
