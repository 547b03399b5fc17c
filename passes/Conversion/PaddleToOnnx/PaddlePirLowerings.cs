using Mopt.Dialects.Paddle;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;
using static Mopt.Passes.Conversion.PaddleParams;

namespace Mopt.Passes.Conversion;

/// <summary>
/// The ops PIR programs bring that issue 14's legacy set lacked (frontend/Paddle/Pir):
/// <code>
/// thresholded_relu: out = x > threshold ? x : value   → ThresholdedRelu(alpha = threshold) when value is 0, else Where(Greater)
/// equal:            Equal(x, y), y placed by axis as the elementwise ops place it
/// paddle.if(%c) {true block} {false block}            → onnx.If(%c) {then_branch} {else_branch}, the same blocks
/// </code>
/// <c>paddle.if</c> keeps its regions: it is renamed in place before the other ops are lowered (a rewrite cannot move
/// blocks from one op to another), and the ops in its branches are then lowered like any others.
/// </summary>
internal static class PaddlePirLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["thresholded_relu"] = ThresholdedRelu;
        table["equal"] = l =>
        {
            var x = Input(l, "X");
            var y = PaddleElementwiseLowerings.AlignY(l, x, Input(l, "Y"), Int(l, "axis", -1));
            return Results(l, ("Out", l.Emit("Equal", [x, y], element: ElementType.I1)));
        };
        // Never reached: RenameIfs runs first. Listed so that the pass knows the op.
        table["if"] = _ => throw Blocked("an if is lowered before the other ops (RenameIfs)");
    }

    private static IReadOnlyList<Value> ThresholdedRelu(OpLowering l)
    {
        var x = Input(l, "X");
        double threshold = Float(l, "threshold", 1), value = Float(l, "value", 0);
        var e = ElementOf(x);
        if (!e.IsFloat) throw Blocked($"its input is {e}; thresholded_relu is lowered for floats");
        if (value == 0) return Results(l, ("Out", l.Emit("ThresholdedRelu", [x], [Attr("alpha", (float)threshold)])));
        var above = l.Emit("Greater", [x, l.ScalarFloat(e, threshold, "threshold")], element: ElementType.I1);
        return Results(l, ("Out", l.Emit("Where", [above, x, l.ScalarFloat(e, value, "value")], element: e)));
    }

    /// <summary>
    /// Every <c>paddle.if</c> becomes <c>onnx.If</c> with the same operand, results and regions: its first region (PIR's
    /// true block) is then_branch, its second else_branch (<c>mo.regions</c> names them in that order for the ONNX writer).
    /// </summary>
    public static void RenameIfs(MirModule module)
    {
        var ifs = new List<Operation>();
        module.Op.AddNested(ifs, op => op.Name == PaddleDialect.Name + ".if");
        foreach (var op in ifs)
        {
            if (op.Regions.Count != 2) throw new MirException($"cannot lower to ONNX: node '{op.Location.FirstName ?? "?"}' (if) has {op.Regions.Count} regions, not a true and a false block");
            op.Name = "onnx.If";
            op.RemoveAttr(PaddleDialect.InputsAttr);
            op.RemoveAttr(PaddleDialect.OutputsAttr);
            op.SetAttr("mo.regions", ArrayAttr.OfStrings(["then_branch", "else_branch"]));
        }
    }
}
