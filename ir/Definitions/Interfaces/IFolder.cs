namespace Mopt.Ir;

/// <summary>
/// An operation's fold hook (MLIR's <c>OpFoldResult fold(FoldAdaptor)</c>): its results computed from the constant
/// values of its operands, or from what their types say (a shape from a static type). <c>--fold-constants</c> asks it
/// of every pure operation; the op's definition says how, the pass never looks at its name.
/// </summary>
public interface IFolder
{
    /// <summary>
    /// One tensor per result of a tensor type (results typed <c>none</c> left out), each with its static shape. Null
    /// when the operation does not fold here (an operand is not constant, a dimension is dynamic), with the reason
    /// given to <see cref="FoldRequest.Keep"/> when it is worth a note. Throws <see cref="FoldException"/> when it must
    /// not fold (an integer division by zero) or, with <see cref="FoldException.TryFallback"/>, when this folder does
    /// not cover the case but another evaluator may.
    /// </summary>
    IReadOnlyList<ConstantTensor>? Fold(FoldRequest request);

    /// <summary>
    /// True when it folds only an operation whose every operand is constant (or absent): then an operation with another
    /// operand is passed over without a <see cref="FoldRequest"/> (most operations of a network read an activation).
    /// </summary>
    bool NeedsConstantOperands => false;
}
