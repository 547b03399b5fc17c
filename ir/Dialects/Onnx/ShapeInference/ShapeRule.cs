using Mopt.Ir;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// A shape rule: the result types an operation's inputs and attributes prove, one entry per result (null for a
/// result it knows nothing about), or null when it knows nothing at all. A type may be partial: unranked,
/// <c>?</c> dims, or element type <c>none</c> meaning "element type not known". Inputs that cannot be valid
/// throw <see cref="ShapeError"/>.
/// </summary>
public delegate MirType?[]? ShapeRule(Operation op, ShapeContext ctx);
