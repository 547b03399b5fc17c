using Mopt.Ir;

namespace Mopt.Dialects.Func;

/// <summary><c>func.*</c> and <c>builtin.module</c>: the structure every module has (the core reads them through <see cref="FuncOp"/>).</summary>
public static class FuncDialect
{
    public static Dialect Func { get; } = new("func", "functions: the graph's body, inputs and outputs",
    [
        new OpDefinition(FuncOp.OpName) { Summary = "A function: the graph, its inputs and outputs" },
        new OpDefinition(FuncOp.ReturnOpName)
        {
            Summary = "Returns the function's results", Operands = [new SlotDefinition("results", Arity.Variadic)], Traits = OpTraits.Terminator,
        },
    ]);

    public static Dialect Builtin { get; } = new("builtin", "the module",
    [
        new OpDefinition(MirModule.ModuleOpName) { Summary = "The top-level container of functions and resource blobs" },
    ]);
}
