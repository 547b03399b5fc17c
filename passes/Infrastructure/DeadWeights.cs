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
        var referenced = module.Resources.Blobs.Any() ? new HashSet<string>(StringComparer.Ordinal) : null;
        Collect(module.Op, registry, dead, referenced);

        long erased = 0;
        foreach (var op in dead)
        {
            // A constant reads nothing, so erasing one leaves nothing else dead.
            context.Debug?.WriteLine($"  erased unused constant {op.Location.FirstName ?? op.Name}");
            if (referenced is not null)
                foreach (var attr in op.Attributes)
                    foreach (var key in attr.Value.ResourceKeys()) referenced.Remove(key);
            op.Erase();
            erased++;
        }
        if (erased > 0) context.Count("dead constants erased", erased);
        if (referenced is null) return;

        // A key still read by a live op was counted by it too: re-add what the erased constants shared with live ops.
        if (erased > 0)
        {
            referenced.Clear();
            Collect(module.Op, registry, null, referenced);
        }
        long blobs = 0, bytes = 0;
        foreach (var key in module.Resources.Blobs.Select(b => b.Key).Where(k => !referenced.Contains(k)).ToList())
        {
            if (module.Resources.Get(key) is not { } blob || !module.Resources.Remove(key)) continue;
            blobs++;
            bytes += blob.Data.Length;
        }
        if (blobs == 0) return;
        context.Count("blobs removed", blobs);
        context.Count("blob bytes freed", bytes);
    }

    /// <summary>Adds the unused removable constants under <paramref name="parent"/> to <paramref name="dead"/> and the keys its attributes point at to <paramref name="referenced"/>.</summary>
    private static void Collect(Operation parent, DialectRegistry registry, List<Operation>? dead, HashSet<string>? referenced)
    {
        if (referenced is not null && parent.AttributeCount > 0)
            foreach (var value in parent.AttributeValues)
                if (value is DenseResourceAttr r) referenced.Add(r.Key);
                else if (value is ArrayAttr or DictionaryAttr) referenced.UnionWith(value.ResourceKeys());
        if (dead is not null && parent.OperandCount == 0 && parent.Regions.Count == 0 && parent.Results.Count > 0 && parent.IsUnused
            && registry.Has(parent, OpTraits.ConstantLike) && registry.IsRemovableWhenUnused(parent))
            dead.Add(parent);
        foreach (var region in parent.Regions)
            foreach (var block in region.Blocks)
                foreach (var op in block.Operations)
                    Collect(op, registry, dead, referenced);
    }
}
