namespace Mopt.Backend.Graphviz;

/// <summary>What a node of the op graph stands for.</summary>
public enum NodeKind
{
    /// <summary>An operation (a constant only when it is not folded into the ops that read it).</summary>
    Operation,
    /// <summary>A function argument (a model input), or a nested block's argument.</summary>
    Argument,
    /// <summary>A function result (a model output): one per operand of the function's <c>return</c>.</summary>
    Result,
}
