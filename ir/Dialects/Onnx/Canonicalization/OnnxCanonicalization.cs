using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Canonicalization;

/// <summary>
/// The canonicalization patterns each ONNX operator declares (attached to its definition in <see cref="OnnxOps"/>),
/// in the order they are tried on it; <c>--canonicalize</c> gathers them from the registry.
/// </summary>
internal static class OnnxCanonicalization
{
    public static ICanonicalizationPatterns? For(string opType) => opType switch
    {
        "Identity" => new CanonicalizationPatterns(new RemoveIdentity()),
        "Dropout" => new CanonicalizationPatterns(new RemoveInferenceDropout()),
        "Cast" => new CanonicalizationPatterns(new RemoveNoOpCast("onnx.Cast")),
        "CastLike" => new CanonicalizationPatterns(new RemoveNoOpCast("onnx.CastLike")),
        "Reshape" => new CanonicalizationPatterns(new RemoveNoOpReshape(), new MergeReshapes()),
        "Transpose" => new CanonicalizationPatterns(new RemoveNoOpTranspose(), new FoldTransposePair(toIdentity: true), new FoldTransposePair(toIdentity: false)),
        "Pad" => new CanonicalizationPatterns(new RemoveNoOpPad()),
        "Slice" => new CanonicalizationPatterns(new RemoveNoOpSlice()),
        "Constant" => new CanonicalizationPatterns(new ConstantNodeToInitializer()),
        _ => null,
    };
}
