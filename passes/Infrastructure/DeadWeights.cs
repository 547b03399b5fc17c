using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// What the pass manager clears after every pass, so that no pass leaves weights behind: constant-like operations
/// nothing reads (the registry says which ops are constants and may go) and resource blobs nothing points at.
/// Counted in that pass's statistics as "dead constants erased", "blobs removed" and "blob bytes freed".
/// One walk of the module finds both; it runs after every pass, so it allocates nothing per operation.
/// </summary>
public static class DeadWeights
{
    /// <summary>Erases the unused constants and unreferenced blobs; returns whether there were any.</summary>
    public static bool Erase(MirModule module, PassContext context)
    {
        var registry = context.Dialects;
        var dead = new List<Operation>();
        // Only the keys of live ops count: a constant reads nothing, so erasing one leaves nothing else dead.
        var referenced = module.Resources.Count > 0 ? new HashSet<string>(module.Resources.Count, StringComparer.Ordinal) : null;
        Collect(module.Op, registry, dead, referenced);

        foreach (var op in dead)
        {
            context.Debug?.WriteLine($"  erased unused constant {op.Location.FirstName ?? op.Name}");
            op.Erase();
        }
        if (dead.Count > 0) context.Count("dead constants erased", dead.Count);
        if (referenced is null) return dead.Count > 0;

        long blobs = 0, bytes = 0;
        HashSet<string>? unreferenced = null;
        foreach (var (key, blob) in module.Resources.Blobs)
        {
            if (referenced.Contains(key)) continue;
            (unreferenced ??= new(StringComparer.Ordinal)).Add(key);
            blobs++;
            bytes += blob.Data.Length;
        }
        if (unreferenced is null) return dead.Count > 0;
        module.Resources.RemoveAll(unreferenced); // in one sweep: one by one, each removal shifts the rest of the table
        context.Count("blobs removed", blobs);
        context.Count("blob bytes freed", bytes);
        return true;
    }

    /// <summary>
    /// What a rewrite driver does with the blobs its rewriter released: under a pass manager, nothing (its sweep after
    /// the pass removes and counts them in the same walk); otherwise they are removed and counted now.
    /// </summary>
    public static void RemoveReleased(PatternRewriter rewriter, PassContext context)
    {
        if (context.SweepFollows) return;
        var released = rewriter.RemoveReleasedBlobs();
        if (released.Count == 0) return;
        context.Count("blobs removed", released.Count);
        context.Count("blob bytes freed", released.Bytes);
    }

    /// <summary>Adds the unused removable constants under <paramref name="parent"/> to <paramref name="dead"/> and the keys the others point at to <paramref name="referenced"/>.</summary>
    private static void Collect(Operation parent, DialectRegistry registry, List<Operation> dead, HashSet<string>? referenced)
    {
        if (parent.OperandCount == 0 && parent.RegionCount == 0 && parent.Results.Count > 0 && parent.IsUnused
            && registry.Has(parent, OpTraits.ConstantLike) && registry.IsRemovableWhenUnused(parent))
        {
            dead.Add(parent);
            return;
        }
        if (referenced is not null)
            foreach (var attribute in parent.AttributeSpan) attribute.Value.AddResourceKeysTo(referenced);
        var regions = parent.Regions;
        for (int r = 0; r < regions.Count; r++)
        {
            var blocks = regions[r].Blocks;
            for (int b = 0; b < blocks.Count; b++)
            {
                var ops = blocks[b].Operations;
                for (int i = 0; i < ops.Count; i++) Collect(ops[i], registry, dead, referenced);
            }
        }
    }
}
