using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// What the pass manager clears after every pass, so that no pass leaves weights behind: constant-like operations
/// nothing reads (the registry says which ops are constants and may go) and resource blobs nothing points at.
/// Counted in that pass's statistics as "dead constants erased", "blobs removed" and "blob bytes freed".
/// </summary>
public static class DeadWeights
{
    public static void Erase(MirModule module, PassContext context)
    {
        var registry = context.Dialects;
        bool Dead(Operation op) =>
            op.IsUnused && op.Results.Count > 0 && op.Regions.Count == 0
            && registry.Has(op, OpTraits.ConstantLike) && registry.IsRemovableWhenUnused(op);

        // A constant reads nothing, so erasing one leaves nothing else dead: one sweep per block does.
        var blocks = module.AllOperations().Where(Dead).Select(op => op.Parent!).Distinct().ToList();
        long erased = 0;
        foreach (var block in blocks)
        {
            foreach (var op in block.Operations.Where(Dead)) context.Log($"erased unused constant {op.Location.FirstName ?? op.Name}");
            erased += block.EraseAll(Dead);
        }
        if (erased > 0) context.Count("dead constants erased", erased);

        long blobs = 0, bytes = 0;
        foreach (var (_, blob) in module.RemoveUnreferencedBlobs())
        {
            blobs++;
            bytes += blob.Data.Length;
        }
        if (blobs == 0) return;
        context.Count("blobs removed", blobs);
        context.Count("blob bytes freed", bytes);
    }
}
