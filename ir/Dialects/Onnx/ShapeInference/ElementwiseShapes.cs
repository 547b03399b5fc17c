using Mopt.Ir;
using static Mopt.Dialects.Onnx.ShapeInference.ShapeMath;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// Element-wise operators with numpy broadcasting (Add, Mul, Where, comparisons, ...), unary math, Cast/CastLike.
/// Before opset 7 the binary operators broadcast only B onto A (attribute <c>broadcast</c>), so the result has
/// A's shape; before opset 8 Sum/Max/Min/Mean took equal shapes.
/// </summary>
internal static class ElementwiseShapes
{
    /// <summary>Binary operators whose result has the inputs' element type.</summary>
    private static readonly string[] Arithmetic = ["Add", "Sub", "Mul", "Div", "Pow", "Mod", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor"];
    /// <summary>Binary operators whose result is bool.</summary>
    private static readonly string[] Predicates = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"];
    /// <summary>Operators with any number of inputs, broadcast together.</summary>
    private static readonly string[] Variadic = ["Sum", "Max", "Min", "Mean"];

    /// <summary>Unary operators whose result has the input's shape and element type.</summary>
    private static readonly string[] Unary =
    [
        "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Erf",
        "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
        "Not", "BitwiseNot", "Identity",
    ];

    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        foreach (var name in Arithmetic) rules["onnx." + name] = (op, ctx) => Binary(op, ctx, boolResult: false);
        foreach (var name in Predicates) rules["onnx." + name] = (op, ctx) => Binary(op, ctx, boolResult: true);
        foreach (var name in Variadic) rules["onnx." + name] = VariadicRule;
        foreach (var name in Unary) rules["onnx." + name] = SameAsInput;
        rules["onnx.IsNaN"] = (op, _) => One(ElementType.I1, ShapeOf(op.Input(0)));
        rules["onnx.IsInf"] = (op, _) => One(ElementType.I1, ShapeOf(op.Input(0)));
        rules["onnx.Where"] = Where;
        rules["onnx.Cast"] = Cast;
        rules["onnx.CastLike"] = (op, _) => One(ElemOf(op.Input(1)), ShapeOf(op.Input(0)));
    }

    /// <summary>The result is input 0, type and shape.</summary>
    internal static MirType?[]? SameAsInput(Operation op, ShapeContext ctx)
    {
        if (op.Input(0)?.Type is not TensorType t) return ctx.Unknown("input 0 is not a tensor");
        return [t];
    }

    private static MirType?[]? Binary(Operation op, ShapeContext ctx, bool boolResult)
    {
        var a = op.Input(0);
        var b = op.Input(1);
        if (a is null || b is null) return ctx.Unknown("needs two inputs");
        var element = boolResult ? ElementType.I1 : op.OpType == "Pow" ? ElemOf(a) : FirstElem(a, b);
        if (ctx.OpsetKnownBelow(7))
        {
            // Legacy broadcasting: B is broadcast onto A (or the shapes are equal), so the result is A's shape.
            var sa = ShapeOf(a);
            if (op.Int("broadcast", 0) == 0) sa = MergeShapes(sa, ShapeOf(b), "inputs must have equal shapes without broadcast=1");
            return One(element, sa);
        }
        return One(element, Broadcast([ShapeOf(a), ShapeOf(b)]));
    }

    private static MirType?[]? VariadicRule(Operation op, ShapeContext ctx)
    {
        var inputs = Enumerable.Range(0, op.OperandCount).Select(op.Input).Where(v => v is not null).ToArray();
        if (inputs.Length == 0) return ctx.Unknown("no inputs");
        var shapes = inputs.Select(ShapeOf).ToArray();
        long[]? shape;
        if (ctx.OpsetKnownBelow(8))
        {
            shape = null;
            foreach (var s in shapes) shape = MergeShapes(shape, s, "inputs must have equal shapes before opset 8");
        }
        else shape = Broadcast(shapes);
        return One(FirstElem(inputs), shape);
    }

    private static MirType?[]? Where(Operation op, ShapeContext ctx)
    {
        var c = op.Input(0);
        var x = op.Input(1);
        var y = op.Input(2);
        if (c is null || x is null || y is null) return ctx.Unknown("needs three inputs");
        return One(FirstElem(x, y), Broadcast([ShapeOf(c), ShapeOf(x), ShapeOf(y)]));
    }

    private static MirType?[]? Cast(Operation op, ShapeContext ctx)
    {
        var element = op.GetAttr("to") switch
        {
            TypeAttr { Type: ElementType e } => e,
            _ => OnnxLegacy.CastTarget(op) is long to ? OnnxDataTypes.ElementOrNone(to) : ElementType.None, // a code, or Cast-1's name
        };
        return One(element, ShapeOf(op.Input(0)));
    }
}
