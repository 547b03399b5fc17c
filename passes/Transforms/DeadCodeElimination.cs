using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--dce</c>: removes operations whose results nothing reads and whose definitions say they may go, then the
/// resource blobs no constant points at any more.
/// <code>
/// Before: %0 = "onnx.Constant"() {value = dense_resource&lt;w&gt;} ; (no use of %0)
///         %1 = "onnx.HardSwish"(%x)                                ; (no use of %1)
/// After:  (both gone, and blob w with them)
/// </code>
/// The rule asks the op's definition, never its name (<see cref="DialectRegistry.IsRemovableWhenUnused"/>): an
/// operation goes when it has at least one result, none is read, its definition's traits say Pure or
/// NonDeterministic and not HasEffects, and every operation in its regions may go too or ends its block. Kept:
/// operations with no results; operations without a definition (a dialect that is not registered, an ONNX
/// custom-domain operator such as <c>onnx.com.microsoft.X</c>), since their effects are unknown; operations whose
/// definitions say HasEffects. <c>--debug</c> says why each unused operation stayed. The stateful TensorFlow and
/// Paddle operators (<c>tf.Assert</c>, <c>tf.AssignVariableOp</c>, <c>paddle.save</c>, ...) are kept because those
/// dialects are not registered yet; they stay kept when their dialects (issues 12 and 14) declare them HasEffects.
/// </summary>
public sealed class DeadCodeElimination : Pass
{
    public override string Name => "dce";
    public override string Summary => "Remove unused side-effect-free operations and unused resource blobs";

    public override void Run(MirModule module, PassContext context)
    {
        long removed = 0;
        foreach (var block in module.FunctionBlocks()) removed += SweepBlock(block, context);

        // Under a pass manager its dead-weight sweep after this pass removes and counts the blobs left unreferenced (and
        // before it, the last sweep left none): a walk of the module for them here would find the same.
        if (!context.SweepFollows)
            foreach (var (_, blob) in module.RemoveUnreferencedBlobs())
            {
                removed++;
                context.Count("blobs removed");
                context.Count("blob bytes freed", blob.Data.Length);
            }
        if (removed == 0) context.MarkAllPreserved();
    }

    /// <summary>Erases the unused removable operations of <paramref name="block"/> (and blocks nested in it); returns how many.</summary>
    private static long SweepBlock(Block block, PassContext context)
    {
        long removed = 0;
        // Users come after their producers: one backward sweep removes whole dead chains.
        for (int i = block.Operations.Count - 1; i >= 0; i--)
        {
            var op = block.Operations[i];
            for (int r = 0; r < op.RegionCount; r++)
                foreach (var inner in op.Regions[r].Blocks) removed += SweepBlock(inner, context);
            if (!op.IsUnused || op.Results.Count == 0) continue;
            if (!context.Dialects.IsRemovableWhenUnused(op))
            {
                context.Log($"kept unused {op.Name} ({op.Location.FirstName ?? "unnamed"}): it may have side effects ({WhyKept(op, context.Dialects)})");
                continue;
            }
            op.Erase();
            removed++;
            context.Count("operations removed");
        }
        return removed;
    }

    /// <summary>Why the registry does not let <paramref name="op"/> go, for <c>--debug</c>.</summary>
    private static string WhyKept(Operation op, DialectRegistry dialects)
    {
        if (dialects.Find(op) is not { } def)
            return dialects.FindDialect(op.Dialect) is null
                ? $"dialect '{op.Dialect}' is not registered"
                : $"dialect '{op.Dialect}' does not define it";
        if (def.Has(OpTraits.HasEffects)) return "its definition says HasEffects";
        if (!def.Traits.IsRemovableWhenUnused()) return "its definition says neither Pure nor NonDeterministic";
        return dialects.FirstEffectInRegions(op) is { } inner
            ? $"its region holds {inner.Name} ({inner.Location.FirstName ?? "unnamed"}), which may have"
            : "its definition says so";
    }
}
