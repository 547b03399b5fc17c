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
    public static void Erase(MirModule module, PassContext context)
    {
        var registry = context.Dialects;
        var dead = new List<Operation>();
        // Only the keys of live ops count: a constant reads nothing, so erasing one leaves nothing else dead.
        var referenced = module.Resources.Count > 0 ? new HashSet<string>(StringComparer.Ordinal) : null;
        Collect(module.Op, registry, dead, referenced);

        foreach (var op in dead)
        {
            context.Debug?.WriteLine($"  erased unused constant {op.Location.FirstName ?? op.Name}");
            op.Erase();
        }
        if (dead.Count > 0) context.Count("dead constants erased", dead.Count);
        if (referenced is null) return;

        long blobs = 0, bytes = 0;
        List<string>? unreferenced = null;
        foreach (var (key, _) in module.Resources.Blobs)
            if (!referenced.Contains(key)) (unreferenced ??= new()).Add(key);
        if (unreferenced is null) return;
        foreach (var key in unreferenced)
        {
            if (module.Resources.Get(key) is not { } blob || !module.Resources.Remove(key)) continue;
            blobs++;
            bytes += blob.Data.Length;
        }
        if (blobs == 0) return;
        context.Count("blobs removed", blobs);
        context.Count("blob bytes freed", bytes);
    }

    /// <summary>Adds the unused removable constants under <paramref name="parent"/> to <paramref name="dead"/> and the keys the others point at to <paramref name="referenced"/>.</summary>
    private static void Collect(Operation parent, DialectRegistry registry, List<Operation> dead, HashSet<string>? referenced)
    {
        if (parent.OperandCount == 0 && parent.Regions.Count == 0 && parent.Results.Count > 0 && parent.IsUnused
            && registry.Has(parent, OpTraits.ConstantLike) && registry.IsRemovableWhenUnused(parent))
        {
            dead.Add(parent);
            return;
        }
        if (referenced is not null)
            for (int i = 0; i < parent.AttributeCount; i++) parent.Attributes[i].Value.AddResourceKeysTo(referenced);
        foreach (var region in parent.Regions)
            foreach (var block in region.Blocks)
                foreach (var op in block.Operations)
                    Collect(op, registry, dead, referenced);
    }
}
