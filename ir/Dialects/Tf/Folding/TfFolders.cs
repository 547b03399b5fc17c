using Mopt.Dialects.Onnx.Folding;
using Mopt.Ir;

namespace Mopt.Dialects.Tf.Folding;

/// <summary>
/// The TensorFlow ops mopt evaluates itself (for <c>--tf-fold-constants</c>, the Graph Transform Tool's
/// fold_constants), each attached to its op's definition as its <see cref="IFolder"/>: what frozen graphs compute
/// from constants (shape arithmetic, batch-norm parameters, reshapes of weights). Element-wise arithmetic, Sqrt and
/// Cast share the ONNX evaluators (numpy broadcasting, computed in double and rounded once to the element type);
/// Shape folds from its input's type when that is static, the others when every data input is constant.
/// </summary>
public static class TfFolders
{
    /// <summary><paramref name="def"/> with its folder, when mopt evaluates that op.</summary>
    internal static OpDefinition Attach(OpDefinition def) => def.OpType switch
    {
        "Shape" => def.Implement<IFolder>(new TypeOnlyFolder(TfShapeFolding.Shape)),
        _ when Evaluators.TryGetValue(def.OpType, out var evaluate) => def.Implement<IFolder>(new ConstantOperandsFolder(evaluate)),
        _ => def,
    };

    /// <summary>Every op given a folder here (<c>tf.AddV2</c>, ...), sorted.</summary>
    public static IReadOnlyList<string> DeclaredOps =>
        Evaluators.Keys.Append("Shape").Select(t => TfDialect.Name + "." + t).Order(StringComparer.Ordinal).ToArray();

    private static readonly Dictionary<string, Func<FoldRequest, ConstantTensor>> Evaluators = new(StringComparer.Ordinal)
    {
        ["Identity"] = r => r.Input(0),
        ["Snapshot"] = r => r.Input(0),
        ["StopGradient"] = r => r.Input(0),
        ["Add"] = ElementwiseOps.Add,
        ["AddV2"] = ElementwiseOps.Add,
        ["Sub"] = ElementwiseOps.Sub,
        ["Mul"] = ElementwiseOps.Mul,
        ["RealDiv"] = TfShapeFolding.RealDiv,
        ["Maximum"] = ElementwiseOps.Max,
        ["Minimum"] = ElementwiseOps.Min,
        ["Neg"] = ElementwiseOps.Neg,
        ["Sqrt"] = ElementwiseOps.Sqrt,
        ["Rsqrt"] = TfShapeFolding.Rsqrt,
        ["Square"] = TfShapeFolding.Square,
        ["Cast"] = TfShapeFolding.Cast,
        ["Reshape"] = TfShapeFolding.Reshape,
        ["ExpandDims"] = TfShapeFolding.ExpandDims,
        ["Squeeze"] = TfShapeFolding.Squeeze,
        ["Pack"] = TfShapeFolding.Pack,
        ["ConcatV2"] = TfShapeFolding.ConcatV2,
        ["StridedSlice"] = TfShapeFolding.StridedSlice,
    };
}
