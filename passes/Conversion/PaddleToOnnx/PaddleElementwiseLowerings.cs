using Mopt.Dialects.Onnx;
using Mopt.Dialects.Paddle;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;
using static Mopt.Passes.Conversion.PaddleParams;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Paddle's element-wise ops, activations, scale, dropout, softmax, cast, arg_max, fill_constant and shape.
/// <code>
/// Before: %y = "paddle.elementwise_add"(%x, %b) {axis = 1 : i32}      x: [N, C, H, W], b: [C]
/// After:  %r = "onnx.Reshape"(%b, [1, C, 1, 1]); %y = "onnx.Add"(%x, %r)
/// </code>
/// elementwise_*'s <c>axis</c> is where Y's dims start in X's (-1: at the end, numpy's rule); Y's trailing 1s are
/// ignored, as Paddle's docs say. dropout at inference: downgrade_in_infer (the default) scales by 1 - dropout_prob,
/// upscale_in_train is the identity. scale: scale * x + bias, or scale * (x + bias) when bias_after_scale is false (on
/// integers both truncated to the element type first, as Paddle's kernel does).
/// hard_swish is ONNX's HardSwish only with Paddle's default threshold 6, scale 6, offset 3; else it is written out.
/// </summary>
internal static class PaddleElementwiseLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        foreach (var (paddle, onnx) in new[] { ("add", "Add"), ("sub", "Sub"), ("mul", "Mul"), ("div", "Div"), ("max", "Max"), ("min", "Min"), ("pow", "Pow") })
            table["elementwise_" + paddle] = l => Elementwise(l, onnx);
        foreach (var (paddle, onnx) in new[] { ("relu", "Relu"), ("sigmoid", "Sigmoid"), ("tanh", "Tanh"), ("exp", "Exp"), ("sqrt", "Sqrt"), ("abs", "Abs"), ("reciprocal", "Reciprocal"), ("assign", "Identity") })
            table[paddle] = l => Results(l, ("Out", l.Emit(onnx, [Input(l, "X")])));
        table["relu6"] = l => Results(l, ("Out", Clip(l, Input(l, "X"), 0, Float(l, "threshold", 6))));
        table["leaky_relu"] = l => Results(l, ("Out", l.Emit("LeakyRelu", [Input(l, "X")], [Attr("alpha", (float)Float(l, "alpha", 0.02))])));
        table["hard_sigmoid"] = l => Results(l, ("Out", l.Emit("HardSigmoid", [Input(l, "X")],
            [Attr("alpha", (float)Float(l, "slope", 0.2)), Attr("beta", (float)Float(l, "offset", 0.5))])));
        table["hard_swish"] = HardSwish;
        table["swish"] = Swish;
        table["prelu"] = PRelu;
        table["scale"] = Scale;
        table["dropout"] = Dropout;
        table["softmax"] = l => Results(l, ("Out", l.Emit("Softmax", [Input(l, "X")], [Attr("axis", Int(l, "axis", -1))])));
        table["cast"] = Cast;
        table["arg_max"] = ArgMax;
        table["fill_constant"] = FillConstant;
        table["shape"] = l => Results(l, ("Out", l.Emit("Cast", [l.Emit("Shape", [Input(l, "Input")], element: ElementType.I64)], [Attr("to", (long)OnnxDataTypes.DataTypeOf(ElementType.I32)!)], ElementType.I32)));
    }

    private static IReadOnlyList<Value> Elementwise(OpLowering l, string onnx)
    {
        var x = Input(l, "X");
        var y = Input(l, "Y");
        return Results(l, ("Out", l.Emit(onnx, [x, AlignY(l, x, y, Int(l, "axis", -1))])));
    }

    /// <summary>Y reshaped so that numpy broadcasting puts its dims at <paramref name="axis"/> of X's (unchanged when it already does).</summary>
    internal static Value AlignY(OpLowering l, Value x, Value y, long axis)
    {
        if (axis == -1) return y;
        int rx = l.Rank(x, "its input X"), ry = l.Rank(y, "its input Y");
        if (ry > rx) throw Blocked($"Y has rank {ry}, more than X's {rx}, with axis {axis}: only axis -1 is lowered then");
        if (axis < 0) axis += rx;
        if (axis == rx - ry) return y;
        var shape = TypeOf(y).Shape!.ToList();
        while (shape.Count > 0 && shape[^1] == 1) shape.RemoveAt(shape.Count - 1);
        if (axis < 0 || axis + shape.Count > rx) throw Blocked($"axis {axis} puts Y ({shape.Count} dims that count) past X's rank {rx}");
        if (shape.Count(d => d < 0) > 1) throw Blocked("Y has more than one unknown dimension to place");
        var target = Enumerable.Repeat(1L, (int)axis).Concat(shape).Concat(Enumerable.Repeat(1L, rx - (int)axis - shape.Count)).ToArray();
        return l.Emit("Reshape", [y, l.ConstI64(target, "y_shape")]);
    }

    private static Value Clip(OpLowering l, Value x, double low, double high)
    {
        var e = ElementOf(x);
        return l.Emit("Clip", [x, l.ScalarFloat(e, low, "min"), l.ScalarFloat(e, high, "max")]);
    }

    private static IReadOnlyList<Value> HardSwish(OpLowering l)
    {
        var x = Input(l, "X");
        double threshold = Float(l, "threshold", 6), scale = Float(l, "scale", 6), offset = Float(l, "offset", 3);
        if (threshold == 6 && scale == 6 && offset == 3) return Results(l, ("Out", l.Emit("HardSwish", [x])));
        // x * clip(x + offset, 0, threshold) / scale
        var e = ElementOf(x);
        var shifted = l.Emit("Add", [x, l.ScalarFloat(e, offset, "offset")]);
        var gate = l.Emit("Div", [Clip(l, shifted, 0, threshold), l.ScalarFloat(e, scale, "scale")]);
        return Results(l, ("Out", l.Emit("Mul", [x, gate])));
    }

    private static IReadOnlyList<Value> Swish(OpLowering l)
    {
        var x = Input(l, "X");
        double beta = Float(l, "beta", 1);
        var inner = beta == 1 ? x : l.Emit("Mul", [x, l.ScalarFloat(ElementOf(x), beta, "beta")]);
        return Results(l, ("Out", l.Emit("Mul", [x, l.Emit("Sigmoid", [inner])])));
    }

    private static IReadOnlyList<Value> PRelu(OpLowering l)
    {
        RequireNchw(l, "data_format");
        var x = Input(l, "X");
        var alpha = Input(l, "Alpha");
        var mode = Str(l, "mode", "all");
        int rank = l.Rank(x, "its input");
        long count = TypeOf(alpha).ElementCount ?? throw Blocked("its Alpha has no static shape");
        long[] target = mode switch
        {
            "all" when count == 1 => [1],
            "channel" => [count, .. Enumerable.Repeat(1L, rank - 2)],
            "element" => [1, .. Shape(x, "its input").Skip(1)],
            _ => throw Blocked($"mode '{mode}' with {count} alphas is not all (1), channel or element"),
        };
        if (target.Any(d => d < 0)) throw Blocked("an element-wise PReLU needs the input's static shape");
        if (!TypeOf(alpha).Shape!.SequenceEqual(target)) alpha = l.Emit("Reshape", [alpha, l.ConstI64(target, "alpha_shape")]);
        return Results(l, ("Out", l.Emit("PRelu", [x, alpha])));
    }

    private static IReadOnlyList<Value> Scale(OpLowering l)
    {
        if (Optional(l, "ScaleTensor") is not null) throw Blocked("its scale comes from a ScaleTensor input; only the scale attribute is lowered");
        var x = Input(l, "X");
        double scale = Float(l, "scale", 1), bias = Float(l, "bias", 0);
        bool after = Bool(l, "bias_after_scale", true);
        var e = ElementOf(x);
        if (!e.IsFloat && !e.IsInteger) throw Blocked($"its input is {e}; scale is lowered for floats and integers");
        if (!e.IsFloat)
        {
            // Paddle's ScaleKernel computes in the element type: scale.to<T>() and static_cast<T>(bias) truncate.
            scale = Math.Truncate(scale);
            bias = Math.Truncate(bias);
        }
        Value Scalar(double v, string hint)
        {
            if (e.IsFloat) return l.ScalarFloat(e, v, hint);
            var one = new byte[e.ByteSize];
            ElementCodec.WriteInteger(one, e, (long)v);
            return l.Const(new TensorType(e, []), one, hint);
        }
        Value y = x;
        if (!after && bias != 0) y = l.Emit("Add", [y, Scalar(bias, "bias")]);
        if (scale != 1) y = l.Emit("Mul", [y, Scalar(scale, "scale")]);
        if (after && bias != 0) y = l.Emit("Add", [y, Scalar(bias, "bias")]);
        if (ReferenceEquals(y, x)) y = l.Emit("Identity", [x]);
        return Results(l, ("Out", y));
    }

    private static IReadOnlyList<Value> Dropout(OpLowering l)
    {
        var x = Input(l, "X");
        var mode = Str(l, "dropout_implementation", "downgrade_in_infer");
        if (l.Op.GetAttr("dropout_prob") is DictionaryAttr) throw Blocked("its dropout_prob is a var; only a constant probability is lowered");
        double p = Float(l, "dropout_prob", 0.5);
        return mode switch
        {
            "upscale_in_train" => Results(l, ("Out", l.Emit("Identity", [x]))),
            "downgrade_in_infer" => Results(l, ("Out", p == 0 ? l.Emit("Identity", [x]) : l.Emit("Mul", [x, l.ScalarFloat(ElementOf(x), 1 - p, "keep")]))),
            _ => throw Blocked($"dropout_implementation '{mode}' is not downgrade_in_infer or upscale_in_train"),
        };
    }

    private static ElementType Element(long paddleCode, string what) =>
        PaddleDataTypes.Element((int)paddleCode) ?? throw Blocked($"{what} {PaddleDataTypes.Name((int)paddleCode)} has no ONNX element type");

    private static IReadOnlyList<Value> Cast(OpLowering l)
    {
        var to = Element(Int(l, "out_dtype", 5), "out_dtype");
        return Results(l, ("Out", l.Emit("Cast", [Input(l, "X")], [Attr("to", (long)OnnxDataTypes.DataTypeOf(to)!)], to)));
    }

    private static IReadOnlyList<Value> ArgMax(OpLowering l)
    {
        var x = Input(l, "X");
        long axis = Int(l, "axis", 0);
        if (Bool(l, "flatten", false))
        {
            x = l.Emit("Reshape", [x, l.ConstI64([-1], "flat")]);
            axis = 0;
        }
        var y = l.Emit("ArgMax", [x], [Attr("axis", axis), Attr("keepdims", Bool(l, "keepdims", false) ? 1 : 0)], ElementType.I64);
        long dtype = Int(l, "dtype", 3);
        if (dtype is not (-1 or 3))
        {
            var to = Element(dtype, "dtype");
            y = l.Emit("Cast", [y], [Attr("to", (long)OnnxDataTypes.DataTypeOf(to)!)], to);
        }
        return Results(l, ("Out", y));
    }

    private static IReadOnlyList<Value> FillConstant(OpLowering l)
    {
        if (Slot(l, "ShapeTensorList").Count > 0 || Optional(l, "ValueTensor") is not null)
            throw Blocked("its shape list or value comes from an input; only the value attribute and a ShapeTensor are lowered");
        var element = Element(Int(l, "dtype", 5), "dtype");
        var one = new byte[element.ByteSize];
        var text = Str(l, "str_value", "");
        if (element == ElementType.I64 && text.Length > 0) ElementCodec.WriteInteger(one, element, ParseInt64(text));
        else
        {
            double value = text.Length > 0 ? ParseDouble(text) : Float(l, "value", 0);
            if (element.IsFloat) ElementCodec.WriteFloat(one, element, value);
            else ElementCodec.WriteInteger(one, element, (long)value);
        }
        if (Optional(l, "ShapeTensor") is { } shapeTensor)
        {
            // the shape known only at run time: ConstantOfShape of it (an int32 shape cast to ONNX's int64)
            var dims = ElementOf(shapeTensor) == ElementType.I64 ? shapeTensor
                : l.Emit("Cast", [shapeTensor], [Attr("to", (long)OnnxDataTypes.DataTypeOf(ElementType.I64)!)], ElementType.I64);
            var valueAttr = new NamedAttr("value", DenseElementsAttr.Create(new TensorType(element, [1]), one));
            return Results(l, ("Out", l.Emit("ConstantOfShape", [dims], [valueAttr], element)));
        }
        var shape = Ints(l, "shape", []);
        if (shape.Any(d => d < 0)) throw Blocked($"shape {Text(shape)} has an unknown size");
        long count = shape.Aggregate(1L, (a, d) => a * d);
        var bytes = new byte[count * one.Length];
        for (long i = 0; i < count; i++) one.CopyTo(bytes, i * one.Length);
        return Results(l, ("Out", l.Const(new TensorType(element, shape), bytes, "value")));
    }

    // str_value as Paddle's kernel reads it: inf, -inf and nan by name; for int64 an integer, else a double
    private static double ParseDouble(string text) => text switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
            : throw Blocked($"str_value '{text}' is not a number"),
    };

    private static long ParseInt64(string text) =>
        long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
            : (long)ParseDouble(text);
}
