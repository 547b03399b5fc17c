using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

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
