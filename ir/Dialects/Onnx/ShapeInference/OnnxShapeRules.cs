using Mopt.Ir;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// A shape rule: the result types an operation's inputs and attributes prove, one entry per result (null for a
/// result it knows nothing about), or null when it knows nothing at all. A type may be partial: unranked,
/// <c>?</c> dims, or element type <c>none</c> meaning "element type not known". Inputs that cannot be valid
/// throw <see cref="ShapeError"/>.
/// </summary>
public delegate MirType?[]? ShapeRule(Operation op, ShapeContext ctx);

/// <summary>
/// The ONNX shape rules, one file per operator family beside this one, each attached to its operator's definition as
/// its <see cref="IInferTypes"/> when the dialect is built (<see cref="Attach"/>). Passes ask the definitions.
/// </summary>
internal static class OnnxShapeRules
{
    /// <summary><paramref name="def"/> with its shape rule, when the families define one for it.</summary>
    internal static OpDefinition Attach(OpDefinition def) =>
        Declared.TryGetValue(def.Name, out var rule) ? def.Implement<IInferTypes>(new OnnxShapeRule(rule)) : def;

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

/// <summary>An ONNX shape rule as an op definition's <see cref="IInferTypes"/>: it reads the sweep's <see cref="ShapeContext"/>.</summary>
internal sealed class OnnxShapeRule(ShapeRule rule) : IInferTypes
{
    public IReadOnlyList<MirType?>? InferResultTypes(Operation op, TypeInferenceContext context) => rule(op, ShapeContext.Of(context));
}
