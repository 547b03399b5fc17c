using Mopt.Ir;
using static Mopt.Dialects.Onnx.ShapeInference.ShapeMath;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// Activations and normalizations: the result is the input's shape and type (Relu, Clip, Softmax, ...), plus the
/// extra outputs of BatchNormalization, LayerNormalization and Dropout.
/// </summary>
internal static class ActivationShapes
{
    private static readonly string[] SameShape =
    [
        "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu", "Gelu",
        "Mish", "Softplus", "Softsign", "ThresholdedRelu", "Shrink", "Clip", "Softmax", "LogSoftmax", "Hardmax",
        "LRN", "InstanceNormalization", "MeanVarianceNormalization", "LpNormalization", "GroupNormalization",
        "CumSum", "Trilu", "ReverseSequence",
    ];

    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        foreach (var name in SameShape) rules["onnx." + name] = ElementwiseShapes.SameAsInput;
        rules["onnx.BatchNormalization"] = BatchNormalization;
        rules["onnx.LayerNormalization"] = LayerNormalization;
        rules["onnx.Dropout"] = Dropout;
    }

    /// <summary>Y is X; the training outputs (running or saved mean and variance) are [C] of the mean's type.</summary>
    private static MirType?[]? BatchNormalization(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        if (x is null) return ctx.Unknown("no input");
        var result = new MirType?[op.Results.Count];
        result[0] = Tensor(ElemOf(x), ShapeOf(x));
        if (result.Length > 1)
        {
            var mean = op.Input(3);
            var xs = ShapeOf(x);
            long channels = xs is { Length: >= 2 } ? xs[1] : Dyn;
            if (ShapeOf(mean) is [var m]) channels = MergeDim(channels, m, "channels of X and of the mean");
            var stat = Tensor(ElemOf(mean), [channels]);
            for (int k = 1; k < result.Length; k++) result[k] = stat;
        }
        return result;
    }

    /// <summary>Y is X; Mean and InvStdDev keep the dims before <c>axis</c> and have 1 from there on.</summary>
    private static MirType?[]? LayerNormalization(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        if (x is null) return ctx.Unknown("no input");
        var result = new MirType?[op.Results.Count];
        var xs = ShapeOf(x);
        result[0] = Tensor(ElemOf(x), xs);
        if (result.Length > 1)
        {
            long[]? stats = null;
            if (xs is not null)
            {
                int axis = Axis(op.Int("axis", -1), xs.Length);
                stats = xs.Select((d, i) => i < axis ? d : 1).ToArray();
            }
            // stash_type (default 1 = float) is the type of Mean and InvStdDev.
            var element = OnnxDataTypes.ElementOrNone(op.Int("stash_type", 1));
            for (int k = 1; k < result.Length; k++) result[k] = Tensor(element, stats);
        }
        return result;
    }

    /// <summary>output is the input; mask has its shape, bool from opset 10 (before that its type is left alone).</summary>
    private static MirType?[]? Dropout(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        if (x is null) return ctx.Unknown("no input");
        var xs = ShapeOf(x);
        var result = new MirType?[op.Results.Count];
        result[0] = Tensor(ElemOf(x), xs);
        if (result.Length > 1) result[1] = Tensor(ctx.OpsetAtLeast(10) ? ElementType.I1 : ElementType.None, xs);
        return result;
    }
}
