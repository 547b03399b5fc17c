using Mopt.Ir;

namespace Mopt.Passes.Pruning;

/// <summary>A model's size and work: parameters (elements of float constants) and multiply-adds.</summary>
internal readonly record struct ModelCost(long Parameters, long MultiplyAdds)
{
    /// <summary>
    /// Multiply-adds as fvcore counts them, bias excluded: Conv = output elements × (C_in / group) × kernel (the weight's
    /// axes after the first), Gemm = M × N × K, MatMul = output elements × K; dynamic dimensions count as 1.
    /// </summary>
    public static ModelCost Of(MirModule module, DialectRegistry dialects)
    {
        long parameters = 0, flops = 0;
        foreach (var op in module.AllOperations())
        {
            if (dialects.Interface<IConstantLike>(op) is not null)
            {
                if (op.Results.Count == 1 && op.Result.Type is TensorType { Element.IsFloat: true } t && t.ElementCount is long n) parameters += n;
                continue;
            }
            if (op.Name is not ("onnx.Conv" or "onnx.Gemm" or "onnx.MatMul") || op.Results.Count < 1 || op.OperandCount < 2) continue;
            if (op.Result.Type is not TensorType { IsRanked: true } rt || op.GetOperand(1).Type is not TensorType { IsRanked: true } wt) continue;
            long outElems = rt.Shape!.Aggregate(1L, (a, d) => a * Math.Max(1, d));
            long perOutput = op.Name switch
            {
                "onnx.Conv" => wt.Shape!.Skip(1).Aggregate(1L, (a, d) => a * Math.Max(1, d)),
                "onnx.Gemm" => Math.Max(1, wt.Shape![(op.ReadInt("transB") ?? 0) != 0 ? 1 : 0]),
                _ => Math.Max(1, wt.Rank >= 2 ? wt.Shape![wt.Rank - 2] : wt.Shape![0]),
            };
            flops += outElems * perOutput;
        }
        return new ModelCost(parameters, flops);
    }
}
