using Mopt.Ir;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>An ONNX shape rule as an op definition's <see cref="IInferTypes"/>: it reads the sweep's <see cref="ShapeContext"/>.</summary>
internal sealed class OnnxShapeRule(ShapeRule rule) : IInferTypes
{
    public IReadOnlyList<MirType?>? InferResultTypes(Operation op, TypeInferenceContext context) => rule(op, ShapeContext.Of(context));
}
