using Mopt.Ir;
using Mopt.Passes.Canonicalization;

namespace Mopt.Passes;

/// <summary>
/// <c>--canonicalize</c>: small local simplifications that never change what the model computes.
/// <code>
/// Before: %1 = "onnx.Identity"(%0) ; "onnx.Relu"(%1)
/// After:  "onnx.Relu"(%0)
/// </code>
/// The patterns live in <c>Canonicalization/</c>, one file per family, each with its exact conditions:
/// <list type="bullet">
/// <item>pass-throughs (<c>NoOpPatterns.cs</c>): Identity, Dropout in inference, TensorFlow CheckNumerics / Identity /
/// StopGradient / PreventGradient / Snapshot, Cast or CastLike to the same type;</item>
/// <item>Reshape (<c>ReshapePatterns.cs</c>): no-op Reshape, Reshape of a Reshape;</item>
/// <item>Transpose (<c>TransposePatterns.cs</c>): identity permutation, Transpose of a Transpose (removed or composed);</item>
/// <item>Pad and Slice (<c>PadSlicePatterns.cs</c>): all-zero Pad, Slice that takes everything.</item>
/// </list>
/// An operation is only removed when its result has the same type as the value replacing it; a rewrite that cannot be
/// proven (non-constant shape, unknown dimension, training-mode Dropout...) is recorded with its reason.
/// </summary>
public sealed class Canonicalize : Pass
{
    public override string Name => "canonicalize";
    public override string Summary => "Remove no-op operations (onnx.Identity) and apply small local simplifications (Dropout, Reshape, Transpose, Cast, Pad, Slice, Constant nodes)";

    public override void Run(MirModule module, PassContext context) =>
        GreedyRewriteDriver.Apply(module, Patterns(module), context);

    /// <summary>Every canonicalization pattern, in the order they are tried on an operation.</summary>
    public static IReadOnlyList<RewritePattern> Patterns(MirModule module) =>
    [
        new RemoveIdentity(),
        new RemoveInferenceDropout(module),
        .. RemovePassThrough.OpNames.Select(n => new RemovePassThrough(n)),
        new RemoveNoOpCast("onnx.Cast"),
        new RemoveNoOpCast("onnx.CastLike"),
        new RemoveNoOpReshape(module),
        new MergeReshapes(module),
        new RemoveNoOpTranspose(),
        new FoldTransposePair(toIdentity: true),
        new FoldTransposePair(toIdentity: false),
        new RemoveNoOpPad(module),
        new RemoveNoOpSlice(module),
        new ConstantNodeToInitializer(),
    ];
}
