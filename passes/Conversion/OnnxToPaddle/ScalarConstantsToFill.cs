using Mopt.Dialects.Mo;
using Mopt.Dialects.Onnx;
using Mopt.Dialects.Paddle;
using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// After the lowering, each constant scalar (an <c>onnx.Constant</c> of rank 0: a factor, a bound, an index) that a
/// <c>paddle.*</c> op reads becomes a <c>paddle.fill_constant</c> of shape [], as Paddle's own programs make them
/// (<c>paddle.full</c>), instead of a parameter. Its var keeps the constant's name when no other var has it. Constants of rank 1 and up stay
/// constants (parameters: weights, biases, slopes), and so does a scalar of a type Paddle has no code for.
/// <code>
/// Before: %c = "onnx.Constant"() {value = dense&lt;1.0e-01&gt; : tensor&lt;f32&gt;} loc("c")
/// After:  %c = "paddle.fill_constant"() {dtype = 5 : i32, shape = array&lt;i64&gt;, value = 1.0e-01 : f32, str_value = "0.1", ...}
/// </code>
/// </summary>
internal static class ScalarConstantsToFill
{
    public static int Run(MirModule module)
    {
        var constants = new List<Operation>();
        module.Op.AddNested(constants, op => op.Name == Constants.ConstantOp);
        // a name the writer would give another var too (a second constant or an op's output) is left to it to make up
        var all = new List<Operation>();
        module.Op.AddNested(all, _ => true);
        var uses = all.SelectMany(op => op.Name == Constants.ConstantOp
                ? (op.Location.FirstName is { } n ? [n] : [])
                : op.ReadStrings(MoDialect.OutputsAttr) ?? [])
            .CountBy(n => n).ToDictionary(kv => kv.Key, kv => kv.Value);
        int replaced = 0;
        foreach (var constant in constants)
        {
            var result = constant.Results[0];
            if (result.Type is not TensorType { Shape.Count: 0 } || !result.HasUses) continue;
            if (!result.Users.All(u => u.Name.StartsWith(PaddleDialect.Name + ".", StringComparison.Ordinal))) continue;
            if (Constants.TryGet(result, module) is not { } value || PaddleDataTypes.Code(value.Type.Element) is null) continue;
            var attrs = OnnxToPaddleTensorOps.FillAttrs(value, []).ToList();
            attrs.Add(new NamedAttr(PaddleDialect.InputsAttr, DictionaryAttr.From([])));
            attrs.Add(new NamedAttr(PaddleDialect.OutputsAttr, DictionaryAttr.From([new NamedAttr("Out", new IntegerAttr(1, ElementType.I32))])));
            if (constant.Location.FirstName is { } name && uses.GetValueOrDefault(name) == 1) attrs.Add(new NamedAttr(MoDialect.OutputsAttr, ArrayAttr.OfStrings([name])));
            var fill = OpBuilder.Before(constant).Create(PaddleDialect.Name + ".fill_constant", [], [result.Type], attrs, constant.Location);
            result.ReplaceAllUsesWith(fill.Result);
            constant.Erase();
            replaced++;
        }
        return replaced;
    }
}
