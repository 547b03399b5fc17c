namespace Mopt.Ir;

/// <summary>
/// What an operation is, as generic passes ask it (MLIR's traits and memory effects): dce asks whether an unused
/// operation may go, cse whether two equal ones compute the same, fold-constants whether a constant-input one may be
/// evaluated now. An operation without a definition has none of them, so every generic pass leaves it alone.
/// </summary>
[Flags]
public enum OpTraits
{
    None = 0,
    /// <summary>No effect but its results, which depend only on its operands and attributes: removable, mergeable, foldable.</summary>
    Pure = 1 << 0,
    /// <summary>No effect but its results, which differ from run to run (random): removable when unused, never merged or folded.</summary>
    NonDeterministic = 1 << 1,
    /// <summary>Acts on the world or on state (assert, print, save, variable writes): kept even when unused.</summary>
    HasEffects = 1 << 2,
    /// <summary>Its single result is the value of an attribute (<see cref="IConstantLike"/> says which).</summary>
    ConstantLike = 1 << 3,
    /// <summary>Computes each output element from the elements at the same index of its (broadcast) inputs.</summary>
    ElementWise = 1 << 4,
    /// <summary>Its two operands can be swapped without changing the result.</summary>
    Commutative = 1 << 5,
    /// <summary>Ends its block (func.return): nothing may follow it.</summary>
    Terminator = 1 << 6,
    /// <summary>Takes its operands' shapes and element type unchanged (unary activations, Identity).</summary>
    SameOperandsAndResultType = 1 << 7,
}

public static class OpTraitsExtensions
{
    /// <summary>True when an unused instance may be erased (pure or merely non-deterministic).</summary>
    public static bool IsRemovableWhenUnused(this OpTraits traits) =>
        (traits & (OpTraits.Pure | OpTraits.NonDeterministic)) != 0 && (traits & OpTraits.HasEffects) == 0;

    /// <summary>True when the results depend only on operands and attributes, and nothing else happens.</summary>
    public static bool IsPure(this OpTraits traits) =>
        (traits & OpTraits.Pure) != 0 && (traits & (OpTraits.NonDeterministic | OpTraits.HasEffects)) == 0;
}
