using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

/// <summary>
/// The ONNX operators mopt evaluates itself, each attached to its operator's definition as its <see cref="IFolder"/>
/// when the dialect is built (<see cref="Attach"/>). Shape and Size fold from their input's type alone; Gather and
/// Slice of a Shape fold when every dimension they pick is static; the others fold when every operand is constant.
/// </summary>
public static class OnnxFolders
{
    /// <summary><paramref name="def"/> with its folder, when mopt evaluates that operator.</summary>
    internal static OpDefinition Attach(OpDefinition def) => def.OpType switch
    {
        "Shape" => def.Implement<IFolder>(new TypeOnlyFolder(ShapeOps.ShapeOfType)),
        "Size" => def.Implement<IFolder>(new TypeOnlyFolder(ShapeOps.SizeOfType)),
        "Gather" or "Slice" => def.Implement<IFolder>(new OfShapeFolder(Evaluators[def.OpType])),
        _ when Evaluators.TryGetValue(def.OpType, out var evaluate) => def.Implement<IFolder>(new ConstantOperandsFolder(evaluate)),
        _ => def,
    };

    /// <summary>Every operator given a folder here (<c>onnx.Add</c>, ...), sorted: each must be one the dialect defines.</summary>
    public static IReadOnlyList<string> DeclaredOps =>
        Evaluators.Keys.Append("Shape").Append("Size").Select(t => OnnxDialect.Name + "." + t).Order(StringComparer.Ordinal).ToArray();

    /// <summary>What each evaluator computes from constant operands, by operator: read once, while the dialect's definitions are built.</summary>
    private static readonly Dictionary<string, Func<FoldRequest, ConstantTensor>> Evaluators = new(StringComparer.Ordinal)
    {
        // shapes
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

    /// <summary>Attributes mopt keeps only as ONNX bytes (<c>onnx.raw_attributes</c>) are not seen by the evaluators: the fallback gets the op.</summary>
    internal static void RefuseRawAttributes(FoldRequest request)
    {
        if (request.Op.GetAttr("onnx.raw_attributes") is not null)
            throw FoldException.Unsupported("some of its attributes are kept as ONNX bytes");
    }
}
