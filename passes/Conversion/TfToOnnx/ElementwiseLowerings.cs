using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Element-wise ops. TensorFlow broadcasts as numpy does, which is ONNX's multidirectional broadcasting, so a binary op
/// maps one to one:
/// <code>
/// Relu, Sigmoid, Tanh, Elu, Sqrt  → the ONNX op of the same name
/// Relu6(x)                        → Clip(x, 0, 6)
/// Rsqrt(x)                        → Reciprocal(Sqrt(x))
/// Square(x)                       → Mul(x, x)
/// Add, AddV2, Sub, Mul, RealDiv, Maximum, Minimum → Add, Add, Sub, Mul, Div, Max, Min
/// BiasAdd(x, b), NHWC             → Add(x, b)                       (b [C] broadcasts over the last axis)
/// BiasAdd(x, b), NCHW             → Add(x, Unsqueeze(b, [1..r-2])) (b as [C, 1, ..., 1]; needs the rank r of x)
/// </code>
/// </summary>
internal static class ElementwiseLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        foreach (var name in new[] { "Relu", "Sigmoid", "Tanh", "Elu", "Sqrt" })
            table[name] = l => [l.Emit(name, [l.Input(0)])];
        table["Relu6"] = l =>
        {
            var x = l.Input(0);
            var e = ElementOf(x);
            return [l.Emit("Clip", [x, l.ScalarFloat(e, 0, "min"), l.ScalarFloat(e, 6, "max")])];
        };
        table["Rsqrt"] = l => [l.Emit("Reciprocal", [l.Emit("Sqrt", [l.Input(0)])])];
        table["Square"] = l => [l.Emit("Mul", [l.Input(0), l.Input(0)])];
        foreach (var (tf, onnx) in new[] { ("Add", "Add"), ("AddV2", "Add"), ("Sub", "Sub"), ("Mul", "Mul"), ("RealDiv", "Div"), ("Maximum", "Max"), ("Minimum", "Min") })
            table[tf] = l => [l.Emit(onnx, [l.Input(0), l.Input(1)])];
        table["BiasAdd"] = BiasAdd;
        table["BiasAddV1"] = BiasAdd;
    }

    private static IReadOnlyList<Value> BiasAdd(OpLowering l)
    {
        var x = l.Input(0);
        var b = l.Input(1);
        if (l.ChannelsLast()) return [l.Emit("Add", [x, b])];
        int rank = l.Rank(x, "the input of an NCHW BiasAdd");
        if (rank < 2) throw Blocked($"an NCHW BiasAdd needs an input of rank 2 or more, not {rank}");
        if (rank == 2) return [l.Emit("Add", [x, b])];
        var axes = Enumerable.Range(1, rank - 2).Select(a => (long)a).ToArray();
        return [l.Emit("Add", [x, l.Emit("Unsqueeze", [b, l.ConstI64(axes, "bias_axes")])])];
    }
}
