using Mopt.Ir;
namespace Mopt.Passes.ConstantFolding;

/// <summary>The operations <c>--fold-constants</c> evaluates itself, by ONNX op type (default domain).</summary>
public static class NativeEvaluators
{
    private static readonly Dictionary<string, Func<FoldRequest, ConstantTensor>> Table = new(StringComparer.Ordinal)
    {
        // shapes
        ["Shape"] = ShapeOps.Shape,
        ["Size"] = ShapeOps.Size,
        ["Reshape"] = ShapeOps.Reshape,
        ["Flatten"] = ShapeOps.Flatten,
        ["Squeeze"] = ShapeOps.Squeeze,
        ["Unsqueeze"] = ShapeOps.Unsqueeze,
        ["Identity"] = ShapeOps.Identity,
        ["Expand"] = ShapeOps.Expand,
        // indexing
        ["Gather"] = IndexingOps.Gather,
        ["Concat"] = IndexingOps.Concat,
        ["Slice"] = IndexingOps.Slice,
        ["Transpose"] = IndexingOps.Transpose,
        // arithmetic
        ["Add"] = ElementwiseOps.Add,
        ["Sub"] = ElementwiseOps.Sub,
        ["Mul"] = ElementwiseOps.Mul,
        ["Div"] = ElementwiseOps.Div,
        ["Mod"] = ElementwiseOps.Mod,
        ["Min"] = ElementwiseOps.Min,
        ["Max"] = ElementwiseOps.Max,
        ["Neg"] = ElementwiseOps.Neg,
        ["Abs"] = ElementwiseOps.Abs,
        ["Sqrt"] = ElementwiseOps.Sqrt,
        ["Reciprocal"] = ElementwiseOps.Reciprocal,
        ["Floor"] = ElementwiseOps.Floor,
        ["Ceil"] = ElementwiseOps.Ceil,
        // comparisons, logic, selection, conversion
        ["Equal"] = ElementwiseOps.Equal,
        ["Less"] = ElementwiseOps.Less,
        ["LessOrEqual"] = ElementwiseOps.LessOrEqual,
        ["Greater"] = ElementwiseOps.Greater,
        ["GreaterOrEqual"] = ElementwiseOps.GreaterOrEqual,
        ["Not"] = ElementwiseOps.Not,
        ["And"] = ElementwiseOps.And,
        ["Or"] = ElementwiseOps.Or,
        ["Xor"] = ElementwiseOps.Xor,
        ["Where"] = ElementwiseOps.Where,
        ["Cast"] = ElementwiseOps.Cast,
        ["CastLike"] = ElementwiseOps.CastLike,
        // generators
        ["Range"] = GeneratorOps.Range,
        ["ConstantOfShape"] = GeneratorOps.ConstantOfShape,
    };

    public static IEnumerable<string> OpTypes => Table.Keys.Order(StringComparer.Ordinal);

    public static bool Covers(string opType) => Table.ContainsKey(opType);

    /// <summary>The single result of the operation, or a <see cref="FoldException"/> saying why not.</summary>
    public static ConstantTensor Evaluate(string opType, FoldRequest request) =>
        Table.TryGetValue(opType, out var f) ? f(request) : throw FoldException.Unsupported($"no native evaluator for {opType}");
}
