namespace Mopt.Ir;

/// <summary>
/// How a dialect set names the tensors operations produce (mopt's <c>mo.outputs</c>): the rewriter asks it to hand a
/// replaced result's name to the operation that takes its place, so a rewritten model keeps the source's tensor
/// names. The core knows no attribute names; <see cref="DialectRegistry.ResultNames"/> supplies this.
/// </summary>
public interface IResultNames
{
    /// <summary>Gives <paramref name="to"/> the name <paramref name="from"/> has, if it has one.</summary>
    void Transfer(OpResult from, OpResult to);

    /// <summary>True for the attribute holding the result names: a copy of an operation that keeps its original drops it.</summary>
    bool IsResultNames(string attributeName);

    /// <summary>True for attributes that name or document an operation without changing what it computes.</summary>
    bool IsBookkeeping(string attributeName);
}
