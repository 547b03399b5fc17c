using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// The names of the operations a module holds, nested ones too (an MLIR analysis): what a pass that only rewrites
/// certain operations asks first, so that on a module without them it changes nothing without walking it. Built when
/// first asked (<see cref="PassContext.OpNamesAtStart"/>); the pass manager hands it to the passes after for as long as
/// none changes the module (a deploy runs five such passes in a row, most finding nothing).
/// </summary>
public sealed class OpNameCensus
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public OpNameCensus(MirModule module) => Add(module.Op);

    public bool Contains(string opName) => _names.Contains(opName);

    /// <summary>Whether any of <paramref name="opNames"/> is there.</summary>
    public bool ContainsAny(ReadOnlySpan<string> opNames)
    {
        foreach (var name in opNames)
            if (_names.Contains(name)) return true;
        return false;
    }

    private void Add(Operation parent)
    {
        var regions = parent.Regions;
        for (int r = 0; r < regions.Count; r++)
        {
            var blocks = regions[r].Blocks;
            for (int b = 0; b < blocks.Count; b++)
            {
                var ops = blocks[b].Operations;
                // Names come in runs (a net's weights, a chain of layers): a name like the one before is not hashed again.
                string? last = null;
                for (int i = 0; i < ops.Count; i++)
                {
                    var op = ops[i];
                    if (op.Name != last) _names.Add(last = op.Name);
                    if (op.RegionCount > 0) Add(op);
                }
            }
        }
    }
}
