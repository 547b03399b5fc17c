using Mopt.Ir;
using static Mopt.Dialects.Onnx.ShapeInference.ShapeMath;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear: the result has x's shape. QuantizeLinear's type is
/// y_zero_point's, else <c>output_dtype</c> (opset 21), else uint8. DequantizeLinear's type is x_scale's from
/// opset 19 (float32 before), or <c>output_dtype</c> when set (opset 23).
/// </summary>
internal static class QuantizationShapes
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["onnx.QuantizeLinear"] = QuantizeLinear;
        rules["onnx.DequantizeLinear"] = DequantizeLinear;
        rules["onnx.DynamicQuantizeLinear"] = (op, _) =>
        [
            Tensor(ElementType.UI8, ShapeOf(op.Input(0))),
            Tensor(ElementType.F32, []),
            Tensor(ElementType.UI8, []),
        ];
    }

    private static MirType?[]? QuantizeLinear(Operation op, ShapeContext ctx)
    {
        var element = ElemOf(op.Input(2));
        if (element == ElementType.None)
            element = op.GetInt("output_dtype") is long dt and not 0 ? OnnxDataTypes.ElementOrNone(dt) : ElementType.UI8;
        return One(element, ShapeOf(op.Input(0)));
    }

    private static MirType?[]? DequantizeLinear(Operation op, ShapeContext ctx)
    {
        ElementType element;
        if (op.GetInt("output_dtype") is long dt and not 0) element = OnnxDataTypes.ElementOrNone(dt);
        else if (ctx.OpsetKnownBelow(19)) element = ElementType.F32;
        else element = ElemOf(op.Input(1));
        return One(element, ShapeOf(op.Input(0)));
    }
}
