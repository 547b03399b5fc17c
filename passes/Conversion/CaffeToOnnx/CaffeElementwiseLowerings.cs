using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Caffe's activations and element-wise layers, with BVLC Caffe's formulas (a step whose constant makes it the identity
/// is left out). Before / after:
/// <code>
/// %y = "caffe.Exp"(%x) {base = 2.0 : f32, scale = 0.5 : f32, shift = 1.0 : f32}
/// %y = "onnx.Mul"("onnx.Exp"("onnx.Mul"(%x, 0.3466 : tensor&lt;f32&gt;)), 2.0 : tensor&lt;f32&gt;)     (2^1 · e^(0.5 ln 2 · x))
/// </code>
/// Every layer:
/// <code>
/// ReLU {negative_slope = 0}      → Relu(x)           ReLU {negative_slope = a ≠ 0} → LeakyRelu(x) {alpha = a}
/// PReLU(x, slope [C] or [1])     → PRelu(x, slope as [C, 1, ..., 1])   (broadcast over axis 1 of x)
/// Sigmoid, TanH, AbsVal, BNLL    → Sigmoid, Tanh, Abs, Softplus       ELU {alpha} → Elu {alpha}
/// Exp {base b, scale s, shift t} → Mul(Exp(Mul(x, s·ln b)), b^t)      (b = −1: e)
/// Log {base b, scale s, shift t} → Mul(Log(Add(Mul(x, s), t)), 1/ln b) (b = −1: e)
/// Power {power p, scale s, shift t} → Pow(Add(Mul(x, s), t), p)       (s = 0: Expand(t^p, Shape(x)))
/// Threshold {threshold t}        → Cast(Greater(x, t), f32)           Clip {min, max} → Clip(x, min, max)
/// Swish {beta}                   → Mul(x, Sigmoid(Mul(x, beta)))
/// Eltwise SUM {coeff}            → Sum(Mul(x_i, c_i)...)   PROD → Mul(Mul(x_0, x_1), ...)   MAX → Max(x_0, ...)
/// Dropout(x)                     → x                       (Caffe scales at training time, so inference is the identity)
/// Softmax {axis = 1}             → Softmax {axis}          (opset 13's single-axis Softmax is Caffe's)
/// LRN ACROSS_CHANNELS {local_size n, alpha, beta, k} → LRN {size = n, alpha, beta, bias = k} (both divide alpha by n)
/// LRN WITHIN_CHANNEL {n, alpha, beta} → Mul(x, Pow(Add(Mul(AveragePool(Mul(x, x)) {n×n, pad (n−1)/2, count_include_pad}, alpha), 1), −beta))
/// </code>
/// </summary>
internal static class CaffeElementwiseLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["ReLU"] = l =>
        {
            float slope = l.Float("negative_slope", 0);
            return slope == 0 ? l.Become("Relu", [l.Input(0)]) : l.Become("LeakyRelu", [l.Input(0)], [Attr("alpha", slope)]);
        };
        table["PReLU"] = PRelu;
        foreach (var (caffe, onnx) in new[] { ("Sigmoid", "Sigmoid"), ("TanH", "Tanh"), ("AbsVal", "Abs"), ("BNLL", "Softplus") })
            table[caffe] = l => l.Become(onnx, [l.Input(0)]);
        table["ELU"] = l => l.Become("Elu", [l.Input(0)], [Attr("alpha", l.Float("alpha", 1))]);
        table["Exp"] = Exp;
        table["Log"] = Log;
        table["Power"] = Power;
        table["Threshold"] = l =>
        {
            var x = l.Input(0);
            var above = l.Emit("Greater", [x, l.ScalarFloat(ElementOf(x), l.Float("threshold", 0), "threshold")], element: ElementType.I1);
            return [ShapeLowerings.Cast(l, above, ElementOf(x))];
        };
        table["Clip"] = l =>
        {
            var x = l.Input(0);
            if (l.Op.ReadFloat("min") is not { } min || l.Op.ReadFloat("max") is not { } max)
                throw Blocked("a Clip layer needs both clip_param.min and clip_param.max");
            return [l.Emit("Clip", [x, l.ScalarFloat(ElementOf(x), (float)min, "min"), l.ScalarFloat(ElementOf(x), (float)max, "max")])];
        };
        table["Swish"] = l =>
        {
            var x = l.Input(0);
            float beta = l.Float("beta", 1);
            var z = beta == 1 ? x : l.Emit("Mul", [x, l.ScalarFloat(ElementOf(x), beta, "beta")]);
            return [l.Emit("Mul", [x, l.Emit("Sigmoid", [z])])];
        };
        table["Eltwise"] = Eltwise;
        table["Dropout"] = l => [l.Input(0)];
        table["Softmax"] = l => l.Become("Softmax", [l.Input(0)], [Attr("axis", l.Int("axis", 1))]);
        table["LRN"] = Lrn;
    }

    private static IReadOnlyList<Value> PRelu(OpLowering l)
    {
        var x = l.Input(0);
        var slope = l.Input(1);
        int rank = l.Rank(x, "the input of a PReLU");
        if (rank < 2) throw Blocked($"a PReLU's input needs rank 2 or more (its channels are axis 1), not {rank}");
        var slopeType = TypeOf(slope);
        long count = slopeType.ElementCount ?? throw Blocked("its slope blob has no static shape");
        bool shared = l.Bool("channel_shared");
        long? channels = TypeOf(x).Shape![1] is var c and >= 0 ? c : null;
        if (shared && count != 1) throw Blocked($"channel_shared needs one slope, its blob has {count}");
        if (!shared && channels is { } ch && count != ch) throw Blocked($"its slope blob has {count} values, the input has {ch} channels");
        if (count == 1) return l.Become("PRelu", [x, slope]);
        var shape = new long[rank - 1];
        Array.Fill(shape, 1);
        shape[0] = count;
        if (slopeType.Shape!.SequenceEqual(shape)) return l.Become("PRelu", [x, slope]);
        // The same blob reshaped (no copy, no new blob); a slope that is not a constant gets a Reshape.
        if (Constants.IsConstant(slope)) return l.Become("PRelu", [x, CaffeNormLowerings.Reshaped(l, slope, shape)]);
        var perm = Enumerable.Range(0, slopeType.Rank).Select(a => (long)a).ToArray();
        return l.Become("PRelu", [x, l.PermutedFilter(slope, perm, shape)]);
    }

    private static Value Scaled(OpLowering l, Value x, double factor, string hint) =>
        factor == 1 ? x : l.Emit("Mul", [x, l.ScalarFloat(ElementOf(x), factor, hint)]);

    private static Value Shifted(OpLowering l, Value x, double shift) =>
        shift == 0 ? x : l.Emit("Add", [x, l.ScalarFloat(ElementOf(x), shift, "shift")]);

    // exp_layer.cpp: y = outer · exp(inner · x), inner = scale · ln(base), outer = base^shift (e^shift for base −1).
    private static IReadOnlyList<Value> Exp(OpLowering l)
    {
        var x = l.Input(0);
        double b = l.Float("base", -1), scale = l.Float("scale", 1), shift = l.Float("shift", 0);
        if (b != -1 && !(b > 0)) throw Blocked($"exp_param.base must be −1 (e) or positive, not {b}");
        double logBase = b == -1 ? 1 : Math.Log(b);
        double outer = shift == 0 ? 1 : b == -1 ? Math.Exp(shift) : Math.Pow(b, shift);
        return [Scaled(l, l.Emit("Exp", [Scaled(l, x, logBase * scale, "inner_scale")]), outer, "outer_scale")];
    }

    // log_layer.cpp: y = log(shift + scale · x) / ln(base) (base −1: the natural log).
    private static IReadOnlyList<Value> Log(OpLowering l)
    {
        var x = l.Input(0);
        double b = l.Float("base", -1), scale = l.Float("scale", 1), shift = l.Float("shift", 0);
        if (b != -1 && !(b > 0)) throw Blocked($"log_param.base must be −1 (e) or positive, not {b}");
        double baseScale = b == -1 ? 1 : 1 / Math.Log(b);
        return [Scaled(l, l.Emit("Log", [Shifted(l, Scaled(l, x, scale, "scale"), shift)]), baseScale, "base_scale")];
    }

    // power_layer.cpp: y = (shift + scale · x)^power; with power · scale = 0 every output is the constant (power 0: 1).
    private static IReadOnlyList<Value> Power(OpLowering l)
    {
        var x = l.Input(0);
        var e = ElementOf(x);
        double power = l.Float("power", 1), scale = l.Float("scale", 1), shift = l.Float("shift", 0);
        if (power * scale == 0)
        {
            double value = power == 0 ? 1 : Math.Pow(shift, power);
            return [l.Emit("Expand", [l.ScalarFloat(e, value, "value"), l.Emit("Shape", [x], element: ElementType.I64)])];
        }
        var y = Shifted(l, Scaled(l, x, scale, "scale"), shift);
        return [power == 1 ? y : l.Emit("Pow", [y, l.ScalarFloat(e, power, "power")])];
    }

    // eltwise_layer.cpp: SUM is Σ coeff_i · x_i (coeff: none, or one per bottom), PROD the product, MAX the maximum.
    private static IReadOnlyList<Value> Eltwise(OpLowering l)
    {
        var xs = Enumerable.Range(0, l.InputCount).Select(l.Input).ToList();
        string operation = l.Str("operation", "SUM");
        var coeff = l.Op.ReadFloats("coeff");
        if (coeff is { Length: > 0 } && operation != "SUM")
            throw Blocked($"Eltwise {operation} takes no coeff (Caffe allows coefficients for SUM only)");
        if (xs.Count == 1) return operation == "SUM" && coeff is { Length: 1 } ? [Scaled(l, xs[0], coeff[0], "coeff0")] : [xs[0]];
        switch (operation)
        {
            case "SUM":
                if (coeff is { Length: > 0 })
                {
                    if (coeff.Length != xs.Count) throw Blocked($"Eltwise SUM has {coeff.Length} coeff for {xs.Count} bottoms (Caffe needs one per bottom)");
                    xs = xs.Select((x, i) => Scaled(l, x, (float)coeff[i], $"coeff{i}")).ToList();
                }
                return l.Become("Sum", xs);
            case "PROD":
                return [xs.Skip(1).Aggregate(xs[0], (acc, x) => l.Emit("Mul", [acc, x]))];
            case "MAX":
                return l.Become("Max", xs);
            default:
                throw Blocked($"Eltwise operation {operation} is not PROD, SUM or MAX");
        }
    }

    // lrn_layer.cpp: ACROSS_CHANNELS is x / (k + alpha/n · Σ_window x²)^beta, ONNX's LRN exactly; WITHIN_CHANNEL is
    // Caffe's own composition: x · (1 + alpha · AVE-pool(x², n×n, pad (n−1)/2))^−beta, k unused, the pool over n² cells.
    private static IReadOnlyList<Value> Lrn(OpLowering l)
    {
        var x = l.Input(0);
        long size = l.Int("local_size", 5);
        float alpha = l.Float("alpha", 1), beta = l.Float("beta", 0.75f), k = l.Float("k", 1);
        if (size % 2 != 1) throw Blocked($"LRN local_size must be odd (Caffe checks it), not {size}");
        string region = l.Str("norm_region", "ACROSS_CHANNELS");
        if (region == "ACROSS_CHANNELS")
            return l.Become("LRN", [x], [Attr("alpha", alpha), Attr("beta", beta), Attr("bias", k), Attr("size", size)]);
        if (region != "WITHIN_CHANNEL") throw Blocked($"LRN norm_region {region} is not ACROSS_CHANNELS or WITHIN_CHANNEL");
        int rank = l.Rank(x, "the input of a WITHIN_CHANNEL LRN");
        if (rank != 4) throw Blocked($"a WITHIN_CHANNEL LRN needs a 4-D input, not rank {rank}");
        long pad = (size - 1) / 2;
        var e = ElementOf(x);
        var pooled = l.Emit("AveragePool", [l.Emit("Mul", [x, x])],
            [Attr("kernel_shape", [size, size]), Attr("pads", [pad, pad, pad, pad]), Attr("strides", [1L, 1L]), Attr("count_include_pad", 1L)]);
        var scale = l.Emit("Add", [Scaled(l, pooled, alpha, "alpha"), l.ScalarFloat(e, 1, "one")]);
        return [l.Emit("Mul", [x, l.Emit("Pow", [scale, l.ScalarFloat(e, -beta, "neg_beta")])])];
    }
}
