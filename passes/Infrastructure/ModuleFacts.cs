namespace Mopt.Passes;

/// <summary>
/// What a pass may know holds of the module because the passes before it made it so (MLIR's preserved analyses, for
/// facts rather than cached results): a pass establishes a fact on its <see cref="PassContext"/>; the pass manager keeps
/// it until a pass changes the module without establishing it again. Outside a pass manager nothing is known.
/// </summary>
[Flags]
public enum ModuleFacts
{
    None = 0,

    /// <summary>
    /// Every operation's result types are what its definition's shape rule gives for its operands (and every function's
    /// signature what it returns): <c>--infer-shapes</c> would change nothing and find no conflict.
    /// </summary>
    TypesInferred = 1,
}
