using Mopt.Ir;
using static Mopt.Dialects.Onnx.ShapeInference.ShapeMath;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// Gemm: A [M, K] (or [K, M] with transA), B [K, N] (or [N, K] with transB) → [M, N].
/// MatMul (and MatMulInteger, QLinearMatMul): numpy matmul: 1-D operands are promoted and the added dim removed
/// again; the batch dims broadcast.
/// </summary>
internal static class MatMulShapes
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["onnx.Gemm"] = Gemm;
        rules["onnx.MatMul"] = (op, ctx) => MatMul(op, ctx, op.Input(0), op.Input(1), null);
        rules["onnx.MatMulInteger"] = (op, ctx) => MatMul(op, ctx, op.Input(0), op.Input(1), ElementType.I32);
        rules["onnx.QLinearMatMul"] = (op, ctx) => MatMul(op, ctx, op.Input(0), op.Input(3), ElemOf(op.Input(7)));
    }

    private static MirType?[]? Gemm(Operation op, ShapeContext ctx)
    {
        var a = op.Input(0);
        var b = op.Input(1);
        var sa = ShapeOf(a);
        var sb = ShapeOf(b);
        if (sa is not null && sa.Length != 2) throw new ShapeError($"A has rank {sa.Length}, Gemm needs rank 2");
        if (sb is not null && sb.Length != 2) throw new ShapeError($"B has rank {sb.Length}, Gemm needs rank 2");
        bool transA = op.Int("transA", 0) != 0;
        bool transB = op.Int("transB", 0) != 0;
        long m = sa is null ? Dyn : sa[transA ? 1 : 0];
        long ka = sa is null ? Dyn : sa[transA ? 0 : 1];
        long kb = sb is null ? Dyn : sb[transB ? 1 : 0];
        long n = sb is null ? Dyn : sb[transB ? 0 : 1];
        MergeDim(ka, kb, "the inner dims of A and B differ");
        var shape = new[] { m, n };
        if (ShapeOf(op.Input(2)) is { } sc)
        {
            // C is broadcast onto [M, N]: a known dim of C other than 1 is M or N, so it can also prove them.
            if (sc.Length > 2) throw new ShapeError($"C has rank {sc.Length}, Gemm allows at most 2");
            var broadcast = Broadcast([shape, sc]);
            if (broadcast is not null)
                for (int i = 0; i < 2; i++)
                    if (shape[i] >= 0 && broadcast[i] != shape[i])
                        throw new ShapeError($"C ({Format(sc)}) cannot be broadcast to {Format(shape)}");
                    else shape[i] = broadcast[i];
        }
        return One(ElemOf(a), shape);
    }

    private static MirType?[]? MatMul(Operation op, ShapeContext ctx, Value? a, Value? b, ElementType? resultElement)
    {
        var sa = ShapeOf(a);
        var sb = ShapeOf(b);
        var element = resultElement ?? ElemOf(a);
        if (sa is null || sb is null) return [Tensor(element, null)];
        if (sa.Length == 0 || sb.Length == 0) throw new ShapeError("MatMul operands must have rank 1 or more");

        bool aVector = sa.Length == 1, bVector = sb.Length == 1;
        var ea = aVector ? new[] { 1, sa[0] } : sa;
        var eb = bVector ? new[] { sb[0], 1 } : sb;
        // The message (both shapes printed) only for the error: this runs for every MatMul typed.
        if (DimsConflict(ea[^1], eb[^2])) MergeDim(ea[^1], eb[^2], $"the inner dims of {Format(sa)} and {Format(sb)} differ");
        var batch = Broadcast([ea[..^2], eb[..^2]])!;
        var shape = new List<long>(batch);
        if (!aVector) shape.Add(ea[^2]);
        if (!bVector) shape.Add(eb[^1]);
        return One(element, shape.ToArray());
    }
}
