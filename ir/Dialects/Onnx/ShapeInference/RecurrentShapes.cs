using Mopt.Ir;
using static Mopt.Dialects.Onnx.ShapeInference.ShapeMath;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// RNN, GRU, LSTM: Y [seq, directions, batch, hidden]; Y_h (and LSTM's Y_c) [directions, batch, hidden].
/// With layout = 1 (opset 14) the batch comes first: X [batch, seq, input], Y [batch, seq, directions, hidden],
/// Y_h [batch, directions, hidden].
/// </summary>
internal static class RecurrentShapes
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["onnx.RNN"] = Recurrent;
        rules["onnx.GRU"] = Recurrent;
        rules["onnx.LSTM"] = Recurrent;
    }

    private static MirType?[]? Recurrent(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        if (xs is not null && xs.Length != 3) throw new ShapeError($"X has rank {xs.Length}, needs 3");
        bool batchFirst = op.Int("layout", 0) != 0;
        long seq = xs is null ? Dyn : xs[batchFirst ? 1 : 0];
        long batch = xs is null ? Dyn : xs[batchFirst ? 0 : 1];
        long directions = (op.GetString("direction") ?? "forward") == "bidirectional" ? 2 : 1;
        // hidden_size, else from W [directions, gates * hidden, input].
        long hidden = op.GetInt("hidden_size") ?? Dyn;
        if (ShapeOf(op.Input(1)) is [var wd, var wg, _])
        {
            MergeDim(directions, wd, "num_directions and W's dim 0");
            long gates = op.OpType switch { "LSTM" => 4, "GRU" => 3, _ => 1 };
            if (wg >= 0)
            {
                if (wg % gates != 0) throw new ShapeError($"W's dim 1 ({wg}) is not a multiple of {gates} gates");
                hidden = MergeDim(hidden, wg / gates, "hidden_size and W's dim 1");
            }
        }
        var element = ElemOf(x);
        var y = Tensor(element, batchFirst ? [batch, seq, directions, hidden] : [seq, directions, batch, hidden]);
        var state = Tensor(element, batchFirst ? [batch, directions, hidden] : [directions, batch, hidden]);
        var result = new MirType?[op.Results.Count];
        for (int k = 0; k < result.Length; k++) result[k] = k == 0 ? y : state;
        return result;
    }
}
