using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

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
