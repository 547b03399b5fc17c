using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Canonicalization;

/// <summary>
/// An ONNX <c>Constant</c> node becomes an initializer, as ONNX Runtime's optimizer does: same value, no node.
/// <code>
/// Before: %c = "onnx.Constant"() {mo.node, value_ints = [1, 2]} : () -> tensor&lt;2xi64&gt;   (exported as a node)
/// After:  %c = "onnx.Constant"() {value = dense&lt;[1, 2]&gt; : tensor&lt;2xi64&gt;} : () -> tensor&lt;2xi64&gt;  (an initializer)
/// </code>
/// Applies to <c>value</c> (a tensor), <c>value_float(s)</c> and <c>value_int(s)</c> when the result type is the value's
/// type (or unranked, and not returned by the function); string and sparse values stay nodes.
/// </summary>
internal sealed class ConstantNodeToInitializer : RewritePattern
{
    public override string Name => "Constant nodes made initializers";
    public override string? Root => Constants.ConstantOp;

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.GetAttr("mo.node") is null || op.Results.Count != 1) return false;
        var attrs = op.Attributes.Where(a => !a.Name.StartsWith("mo.", StringComparison.Ordinal)).ToList();
        if (attrs.Count != 1) return false;
        Attr? value = attrs[0] switch
        {
            { Name: "value", Value: DenseElementsAttr or DenseResourceAttr } a => a.Value,
            { Name: "value_float", Value: FloatAttr f } => DenseElementsAttr.FromFloats(new TensorType(ElementType.F32, []), [(float)f.Value]),
            { Name: "value_int", Value: IntegerAttr i } => DenseElementsAttr.FromInt64s(new TensorType(ElementType.I64, []), [i.Value]),
            { Name: "value_floats", Value: ArrayAttr arr } when arr.Elements.All(e => e is FloatAttr) =>
                DenseElementsAttr.FromFloats(new TensorType(ElementType.F32, [arr.Elements.Count]), arr.Elements.Select(e => (float)((FloatAttr)e).Value).ToArray()),
            { Name: "value_ints", Value: ArrayAttr arr } when arr.Elements.All(e => e is IntegerAttr) =>
                DenseElementsAttr.FromInt64s(new TensorType(ElementType.I64, [arr.Elements.Count]), arr.Elements.Select(e => ((IntegerAttr)e).Value).ToArray()),
            _ => null,
        };
        if (value is null) return false;
        var valueType = value is DenseElementsAttr d ? d.Type : ((DenseResourceAttr)value).Type;
        if (op.Result.Type != valueType)
        {
            bool returned = op.Result.Users.Any(u => u.Name == FuncOp.ReturnOpName);
            if (op.Result.Type is not TensorType { IsRanked: false } || returned)
                return rewriter.NotifyMatchFailure(op, $"its type {op.Result.Type} is not its value's type {valueType}");
        }
        // no closure: one would be made on entry, for every constant this pattern is tried on
        var modification = rewriter.StartModification(op);
        op.Result.Type = valueType;
        foreach (var a in attrs) op.RemoveAttr(a.Name);
        op.RemoveAttr("mo.node");
        op.SetAttr("value", value);
        rewriter.FinalizeModification(modification);
        return true;
    }
}
