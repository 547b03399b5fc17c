using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

/// <summary>
/// The ONNX operators mopt evaluates itself, each attached to its operator's definition as its <see cref="IFolder"/>
/// when the dialect is built (<see cref="Attach"/>). Shape and Size fold from their input's type alone; Gather and
/// Slice of a Shape fold when every dimension they pick is static; the others fold when every operand is constant.
/// </summary>
internal static class OnnxFolders
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

/// <summary>Folds when every operand is constant (or absent): the single result, computed by <paramref name="evaluate"/>.</summary>
internal sealed class ConstantOperandsFolder(Func<FoldRequest, ConstantTensor> evaluate) : IFolder
{
    public IReadOnlyList<ConstantTensor>? Fold(FoldRequest request)
    {
        if (!request.AllConstant) return null;
        OnnxFolders.RefuseRawAttributes(request);
        return [evaluate(request)];
    }
}

/// <summary>Folds from the input's type, constant or not (Shape, Size): null, with the reason, when that type is not static enough.</summary>
internal sealed class TypeOnlyFolder(Func<Operation, ConstantTensor?> evaluate) : IFolder
{
    public IReadOnlyList<ConstantTensor>? Fold(FoldRequest request)
    {
        if (evaluate(request.Op) is not { } result) return request.Keep("its input's shape is not static");
        OnnxFolders.RefuseRawAttributes(request);
        return [result];
    }
}

/// <summary>
/// Gather or Slice: of constants, evaluated; of a Shape (its other operands constant), evaluated on the positions
/// 0..n-1 of the Shape's dimensions, then each picked position looked up: folds when every dimension picked is static.
/// </summary>
internal sealed class OfShapeFolder(Func<FoldRequest, ConstantTensor> evaluate) : IFolder
{
    public IReadOnlyList<ConstantTensor>? Fold(FoldRequest request)
    {
        var op = request.Op;
        if (request.AllConstant)
        {
            OnnxFolders.RefuseRawAttributes(request);
            return [evaluate(request)];
        }
        if (op.OperandCount == 0 || op.GetOperand(0) is not OpResult { Owner: { Name: "onnx.Shape" } shapeOp }) return null;
        for (int i = 1; i < op.OperandCount; i++)
            if (!request.IsConstant(i) && !request.IsAbsent(i)) return null;
        OnnxFolders.RefuseRawAttributes(request);
        if (ShapeOps.ShapeDimsOrDynamic(shapeOp) is not { } dims) return null;
        var positions = ShapeOps.Int64Vector(Enumerable.Range(0, dims.Length).Select(i => (long)i).ToArray());
        var picked = evaluate(request.WithInput(0, positions));
        var values = picked.ToInt64s().Select(p => dims[p]).ToArray();
        if (values.Any(d => d < 0)) return request.Keep("it picks a dynamic dimension");
        return [new ConstantTensor(picked.Type, ShapeOps.Int64Vector(values).Bytes)];
    }
}
