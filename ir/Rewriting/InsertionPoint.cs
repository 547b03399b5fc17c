namespace Mopt.Ir;

/// <summary>A rewriter's insertion point: before <paramref name="Before"/> in <paramref name="Block"/>, or at its end when null.</summary>
public readonly record struct InsertionPoint(Block? Block, Operation? Before);
