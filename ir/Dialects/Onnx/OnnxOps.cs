using Mopt.Dialects.Onnx.Canonicalization;
using Mopt.Dialects.Onnx.Folding;
using Mopt.Dialects.Onnx.ShapeInference;
using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>
/// The ONNX operators with what their specification leaves implicit: traits (every ONNX operator is a function of its
/// inputs; the random ones are not deterministic) and the interfaces passes ask (constant value, weight layout, result
/// types, folder).
/// </summary>
internal static partial class OnnxOps
{
    /// <summary>Operators whose results differ from run to run.</summary>
    private static readonly HashSet<string> Random = new(StringComparer.Ordinal)
    {
        "Bernoulli", "Dropout", "Multinomial", "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
    };

    /// <summary>Computes each output element from the same element of its (broadcast) inputs.</summary>
    private static readonly HashSet<string> ElementWise = new(StringComparer.Ordinal)
    {
        "Abs", "Acos", "Acosh", "Add", "And", "Asin", "Asinh", "Atan", "Atanh", "BitShift", "BitwiseAnd", "BitwiseNot",
        "BitwiseOr", "BitwiseXor", "Cast", "CastLike", "Ceil", "Celu", "Clip", "Cos", "Cosh", "Div", "Elu", "Equal", "Erf", "Exp",
        "Floor", "Gelu", "Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish", "Identity", "IsInf", "IsNaN", "LeakyRelu",
        "Less", "LessOrEqual", "Log", "Max", "Mean", "Min", "Mish", "Mod", "Mul", "Neg", "Not", "Or", "PRelu", "Pow",
        "Reciprocal", "Relu", "Round", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus", "Softsign", "Sqrt",
        "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu", "Where", "Xor",
    };

    /// <summary>Binary operators whose operands can be swapped.</summary>
    private static readonly HashSet<string> Commutative = new(StringComparer.Ordinal)
    {
        "Add", "And", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Equal", "Max", "Mean", "Min", "Mul", "Or", "Sum", "Xor",
    };

    /// <summary>Unary operators whose result has their input's type.</summary>
    private static readonly HashSet<string> SameType = new(StringComparer.Ordinal)
    {
        "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Celu", "Cos", "Cosh", "Elu", "Erf", "Exp", "Floor",
        "Gelu", "HardSigmoid", "HardSwish", "Identity", "LeakyRelu", "Log", "Mish", "Neg", "Reciprocal", "Relu", "Round",
        "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus", "Softsign", "Sqrt", "Tan", "Tanh", "ThresholdedRelu",
    };

    /// <summary>The operations the dialect defines: every operator of ONNX's default domain, and mopt's <c>onnx.NoValue</c>.</summary>
    internal static IEnumerable<string> Names => SpecifiedNames.Append(OnnxDialect.NoValueOp);

    /// <summary>The definition of <paramref name="opName"/> (one of <see cref="Names"/>): its specification, traits and interfaces.</summary>
    internal static OpDefinition Define(string opName)
    {
        if (opName == OnnxDialect.NoValueOp)
            return new OpDefinition(OnnxDialect.NoValueOp)
            {
                Summary = "An omitted optional input (an empty name in ONNX)",
                Results = [new SlotDefinition("none")],
                Traits = OpTraits.Pure,
            };
        var type = opName[(OnnxDialect.Name.Length + 1)..];
        var spec = Specified(type) ?? throw new ArgumentException($"{opName} is not an operator of ONNX's default domain");
        var traits = Random.Contains(type) ? OpTraits.NonDeterministic : OpTraits.Pure;
        if (ElementWise.Contains(type)) traits |= OpTraits.ElementWise;
        if (Commutative.Contains(type)) traits |= OpTraits.Commutative;
        if (SameType.Contains(type)) traits |= OpTraits.SameOperandsAndResultType;
        return Decorate(spec.WithTraits(traits));
    }

    /// <summary>The interfaces of the operators that have them.</summary>
    private static OpDefinition Decorate(OpDefinition def)
    {
        def = Interfaces(OnnxShapeRules.Attach(OnnxFolders.Attach(def))); // result-type rules (ShapeInference/), folders (Folding/)
        // Canonicalization patterns, declared with the op (Canonicalization/OnnxCanonicalization.cs).
        if (OnnxCanonicalization.For(def.OpType) is { } patterns) def = def.Implement<ICanonicalizationPatterns>(patterns);
        // What the operator meant at older opsets, and opsets newer than mopt knows (OnnxLegacy): the rewrite driver and
        // folding ask before rewriting it.
        def = def.Implement<IVersionedSemantics>(OnnxLegacy.Semantics);
        return def;
    }

    private static OpDefinition Interfaces(OpDefinition def) => def.OpType switch
    {
        "Constant" => def.WithTraits(OpTraits.ConstantLike).Implement<IConstantLike>(OnnxConstantValue.Instance),
        "Conv" => def.Implement<IWeightLayout>(OnnxWeightLayouts.Conv),
        "ConvInteger" => def.Implement<IWeightLayout>(OnnxWeightLayouts.ConvInteger),
        "QLinearConv" => def.Implement<IWeightLayout>(OnnxWeightLayouts.QLinearConv),
        "DeformConv" => def.Implement<IWeightLayout>(OnnxWeightLayouts.DeformConv),
        "ConvTranspose" => def.Implement<IWeightLayout>(OnnxWeightLayouts.ConvTranspose),
        "Gemm" => def.Implement<IWeightLayout>(OnnxWeightLayouts.Gemm),
        "MatMul" or "MatMulInteger" => def.Implement<IWeightLayout>(OnnxWeightLayouts.MatMul),
        _ => def,
    };
}
