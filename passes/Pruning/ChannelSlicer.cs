using Mopt.Dialects.Onnx;
using Mopt.Ir;

namespace Mopt.Passes.Pruning;

/// <summary>
/// Removes a group's chosen channels from the model: each sliced constant becomes a new constant holding the kept
/// positions' bytes (copied, not converted: kept values stay bit for bit), each tensor of the group loses them on
/// axis 1, each depthwise Conv's <c>group</c> shrinks; old constants left unused are erased.
/// </summary>
internal static class ChannelSlicer
{
    public static void Apply(ChannelGroup group, IReadOnlyCollection<int> removed, MirModule module)
    {
        var old = new HashSet<Operation>();
        foreach (var slice in group.Slices)
        {
            var value = slice.Op.GetOperand(slice.Operand);
            var constant = Constants.DefiningConstant(value)!;
            var tensor = Constants.TryGet(value, module)!;
            var shape = tensor.Type.Shape!.ToArray();
            var kept = slice.Map.KeptPositions(shape[slice.Axis], removed);
            var bytes = KeepAlongAxis(tensor.Bytes.Span, shape, slice.Axis, tensor.Type.Element.ByteSize, kept);
            shape[slice.Axis] = kept.Length;
            var created = Constants.Create(OpBuilder.Before(slice.Op), module, new TensorType(tensor.Type.Element, shape), bytes,
                constant.Location, constant.Location.FirstName ?? "pruned");
            slice.Op.SetOperand(slice.Operand, created);
            old.Add(constant);
        }
        foreach (var (v, map) in group.Values)
        {
            var t = (TensorType)v.Type;
            var shape = t.Shape!.ToArray();
            shape[1] -= removed.Count * map.Block;
            v.Type = new TensorType(t.Element, shape);
        }
        foreach (var (conv, map) in group.GroupAttrs)
            conv.SetAttr("group", IntegerAttr.I64((conv.ReadInt("group") ?? 1) - removed.Count * map.Block));
        foreach (var c in old)
            if (!c.Result.HasUses) c.Erase();
        module.RemoveUnreferencedBlobs();
    }

    /// <summary>The bytes of a tensor of <paramref name="shape"/> keeping only the <paramref name="kept"/> indices of <paramref name="axis"/>.</summary>
    public static byte[] KeepAlongAxis(ReadOnlySpan<byte> src, long[] shape, int axis, int elementSize, int[] kept)
    {
        long outer = 1, inner = elementSize;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        var bytes = new byte[outer * kept.Length * inner];
        AxisTake.Copy(src, outer, shape[axis], checked((int)inner), kept.Select(k => (long)k).ToArray(), bytes);
        return bytes;
    }
}
