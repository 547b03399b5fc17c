namespace Mopt.Ir;

/// <summary>
/// Told of every change a <see cref="PatternRewriter"/> makes (MLIR's RewriterBase::Listener): the greedy driver
/// keeps its worklist with it.
/// </summary>
public interface IRewriteListener
{
    void OperationInserted(Operation op);
    /// <summary>Called before <paramref name="op"/> is erased, while it still holds its operands.</summary>
    void OperationErased(Operation op);
    void OperationModified(Operation op);
    /// <summary>Called before the uses of <paramref name="op"/>'s results move to <paramref name="replacement"/>.</summary>
    void OperationReplaced(Operation op, IReadOnlyList<Value> replacement);
}
