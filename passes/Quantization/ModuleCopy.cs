using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>
/// A deep copy of a module (operations, arguments, attributes; blobs shared, since they are immutable bytes) and
/// the map from each original value to its copy: the float model kept beside the one being quantized.
/// </summary>
internal static class ModuleCopy
{
    public static (MirModule Copy, Dictionary<Value, Value> Map) Clone(MirModule module)
    {
        var map = new Dictionary<Value, Value>();
        var resources = new ResourceTable();
        foreach (var (key, blob) in module.Resources.Blobs) resources.Set(key, blob);
        resources.Foreign.AddRange(module.Resources.Foreign);
        return (new MirModule(CloneOp(module.Op, map), resources), map);
    }

    private static Operation CloneOp(Operation op, Dictionary<Value, Value> map)
    {
        var operands = op.Operands.Select(v => map.TryGetValue(v, out var m) ? m
            : throw new InvalidOperationException($"{op.Name} at {op.Location} reads a value defined after it"));
        var copy = new Operation(op.Name, operands.ToList(), op.Results.Select(r => r.Type), op.Attributes, op.Location);
        for (int i = 0; i < op.Results.Count; i++) map[op.Results[i]] = copy.Results[i];
        foreach (var region in op.Regions)
        {
            var newRegion = copy.AddRegion();
            foreach (var block in region.Blocks)
            {
                var newBlock = newRegion.AddBlock();
                newBlock.Label = block.Label;
                foreach (var arg in block.Arguments) map[arg] = newBlock.AddArgument(arg.Type, arg.Location);
                foreach (var inner in block.Operations) newBlock.Append(CloneOp(inner, map));
            }
        }
        return copy;
    }
}
