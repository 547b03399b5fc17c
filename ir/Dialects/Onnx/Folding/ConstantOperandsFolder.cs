using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

/// <summary>Folds when every operand is constant (or absent): the single result, computed by <paramref name="evaluate"/>.</summary>
internal sealed class ConstantOperandsFolder(Func<FoldRequest, ConstantTensor> evaluate) : IFolder
{
    public bool NeedsConstantOperands => true;

    public IReadOnlyList<ConstantTensor>? Fold(FoldRequest request)
    {
        if (!request.AllConstant) return null;
        OnnxFolders.RefuseRawAttributes(request);
        return [evaluate(request)];
    }
}
