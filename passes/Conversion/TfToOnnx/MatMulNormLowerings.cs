using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Products, normalisation and Softmax.
/// <code>
/// MatMul(a, b) {transpose_a, transpose_b}       → MatMul(Transpose(a)?, Transpose(b)?)   (2-D; a constant's Transpose folds later)
/// BatchMatMul, BatchMatMulV2 {adj_x, adj_y}      → MatMul with the last two axes of x / y swapped first
/// FusedBatchNorm, V2, V3 (is_training = false)  → BatchNormalization(x, scale, offset, mean, variance) {epsilon},
///                                                  between NHWC ↔ NCHW Transposes for NHWC
/// Softmax(x)                                    → Softmax(x) {axis = -1}
/// </code>
/// Only output 0 of a FusedBatchNorm may be read (the others are training statistics).
/// </summary>
internal static class MatMulNormLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["MatMul"] = l =>
        {
            var a = l.Input(0);
            var b = l.Input(1);
            if (l.Bool("transpose_a")) a = l.Transpose(a, [1, 0]);
            if (l.Bool("transpose_b")) b = l.Transpose(b, [1, 0]);
            return [l.Emit("MatMul", [a, b])];
        };
        table["BatchMatMul"] = BatchMatMul;
        table["BatchMatMulV2"] = BatchMatMul;
        table["BatchMatMulV3"] = BatchMatMul;
        foreach (var name in new[] { "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3" })
            table[name] = FusedBatchNorm;
        table["Softmax"] = l => [l.Emit("Softmax", [l.Input(0)], [Attr("axis", -1)])];
    }

    private static IReadOnlyList<Value> BatchMatMul(OpLowering l)
    {
        var x = l.Input(0);
        var y = l.Input(1);
        if (l.Bool("adj_x")) x = l.Transpose(x, SwapLast(l.Rank(x, "x of an adj_x BatchMatMul")));
        if (l.Bool("adj_y")) y = l.Transpose(y, SwapLast(l.Rank(y, "y of an adj_y BatchMatMul")));
        return [l.Emit("MatMul", [x, y])];
    }

    private static long[] SwapLast(int rank)
    {
        if (rank < 2) throw Blocked($"a BatchMatMul operand of rank {rank} has no matrix axes to swap");
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (perm[rank - 2], perm[rank - 1]) = (perm[rank - 1], perm[rank - 2]);
        return perm;
    }

    private static IReadOnlyList<Value> FusedBatchNorm(OpLowering l)
    {
        if (l.Bool("is_training", true)) throw Blocked("is_training is true (batch statistics); freeze the graph for inference (is_training = false)");
        for (int i = 1; i < l.Op.Results.Count; i++)
            if (l.Op.Results[i].HasUses) throw Blocked($"output {i} (a training statistic) is read; only output 0 has an ONNX form");
        var x = l.Input(0);
        bool nhwc = l.ChannelsLast();
        if (RankOf(x) is int r && r != 4) throw Blocked($"its input has rank {r}, not 4");
        var input = nhwc ? l.Transpose(x, [0, 3, 1, 2]) : x;
        var bn = l.Emit("BatchNormalization", [input, l.Input(1), l.Input(2), l.Input(3), l.Input(4)],
            [Attr("epsilon", l.Float("epsilon", 1e-4f))]);
        var y = nhwc ? l.Transpose(bn, [0, 2, 3, 1]) : bn;
        // The statistics outputs are unread: they take y too, only so that every result has a replacement.
        return Enumerable.Repeat(y, l.Op.Results.Count).ToArray();
    }
}
