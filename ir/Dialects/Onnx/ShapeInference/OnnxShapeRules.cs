using Mopt.Ir;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// The ONNX shape rules, one file per operator family beside this one, each attached to its operator's definition as
/// its <see cref="IInferTypes"/> when the dialect is built (<see cref="Attach"/>). Passes ask the definitions.
/// </summary>
public static class OnnxShapeRules
{
    /// <summary><paramref name="def"/> with its shape rule, when the families define one for it.</summary>
    internal static OpDefinition Attach(OpDefinition def) =>
        Declared.TryGetValue(def.Name, out var rule) ? def.Implement<IInferTypes>(new OnnxShapeRule(rule)) : def;

    /// <summary>Every operator a family gives a rule (<c>onnx.Conv</c>, ...), sorted: each must be one the dialect defines.</summary>
    public static IReadOnlyList<string> DeclaredOps => Declared.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>What each family declares, by operator: read once, while the dialect's definitions are built.</summary>
    private static readonly Dictionary<string, ShapeRule> Declared = Declare();

    private static Dictionary<string, ShapeRule> Declare()
    {
        var rules = new Dictionary<string, ShapeRule>(StringComparer.Ordinal);
        ElementwiseShapes.Register(rules);
        ActivationShapes.Register(rules);
        ConvPoolShapes.Register(rules);
        MatMulShapes.Register(rules);
        ReductionShapes.Register(rules);
        ShapeOpShapes.Register(rules);
        SliceGatherShapes.Register(rules);
        QuantizationShapes.Register(rules);
        RecurrentShapes.Register(rules);
        return rules;
    }
}
