namespace Mopt.Ir;

/// <summary>
/// Evaluates one operation on constant inputs: what <c>--fold-constants</c> falls back to for an operation it does
/// not evaluate itself. <paramref name="inputs"/> has one entry per operand, null for an absent optional input
/// (<c>onnx.NoValue</c>); each tensor has a static shape and all its bytes (not a splat). The answer has one tensor
/// per result of a tensor type (results typed <c>none</c> are left out), each with its computed static shape.
/// Throws (any exception, with a message saying why) when the operation cannot be evaluated.
/// </summary>
/// <remarks>
/// The types are the IR's own (<see cref="DenseElementsAttr"/> as "a tensor of this type with these bytes"), so
/// that an implementation needs no reference to this project: ONNX Runtime's lives in
/// <c>backend/Runtime/OrtOpEvaluator.cs</c> and reaches the pass through <see cref="PassServices.FallbackEvaluator"/>.
/// </remarks>
public delegate IReadOnlyList<DenseElementsAttr> OpEvaluator(Operation op, IReadOnlyList<DenseElementsAttr?> inputs, MirModule module);
