using Mopt.Dialects;
using Mopt.Ir;

namespace Mopt.Tests.Graphviz;

/// <summary>
/// What the op graph should draw, counted from the IR itself (docs/view-op-graph.md): every op but a function's
/// return and a constant only ops read (folded into them); every function argument and result; every nested block's argument.
/// </summary>
public static class OpGraphCounts
{
    public static int Nodes(MirModule module) => DrawnOps(module).Count() + Arguments(module) + Results(module);

    public static IEnumerable<Operation> DrawnOps(MirModule module) =>
        module.AllOperations().Where(op => !IsFunctionReturn(op) && !IsFolded(op));

    private static int Arguments(MirModule module) =>
        module.Functions.Sum(f => f.Arguments.Count)
        + module.AllOperations().SelectMany(op => op.Regions).SelectMany(r => r.Blocks).Sum(b => b.Arguments.Count);

    private static int Results(MirModule module) => module.Functions.Sum(f => f.Return?.OperandCount ?? 0);

    private static bool IsFunctionReturn(Operation op) => op.Name == FuncOp.ReturnOpName && op.Parent?.Parent.Parent?.Name == FuncOp.OpName;

    private static bool IsFolded(Operation op) =>
        StandardDialects.Registry.Has(op, OpTraits.ConstantLike) && op.OperandCount == 0 && op.RegionCount == 0 && op.Results.Count == 1
        && op.Result.HasUses && !op.Result.Users.Any(IsFunctionReturn);
}
