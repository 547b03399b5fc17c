namespace Mopt.Ir;

/// <summary>
/// An operation's result-type rule (MLIR's InferTypeOpInterface): what its operands' types, its attributes and its
/// constant operands prove about its result types. <c>--infer-shapes</c> asks it through the op's definition
/// (<see cref="TypeInference"/>); the pass never looks at the op's name.
/// </summary>
public interface IInferTypes
{
    /// <summary>
    /// One entry per result (null for a result it knows nothing about), or null when it knows nothing at all (give the
    /// reason to <see cref="TypeInferenceContext.Unknown"/>). A type may be partial: unranked, <c>?</c> dims, or element
    /// type <c>none</c> for "not known". Operands that cannot be valid throw <see cref="ShapeError"/>.
    /// </summary>
    IReadOnlyList<MirType?>? InferResultTypes(Operation op, TypeInferenceContext context);
}
