using Mopt.Ir;

namespace Mopt.Passes.Pruning;

/// <summary>
/// Channels that must lose the same indices together: the group-1 Convs that produce them (the master first, then
/// the others a residual join ties to it), the constants sliced along the way, the tensors whose axis 1 shrinks and
/// the depthwise Convs whose <c>group</c> shrinks with them.
/// </summary>
internal sealed record ChannelGroup(
    Operation Master,
    long Channels,
    IReadOnlyList<Operation> Producers,
    IReadOnlyList<Operation> Depthwise,
    IReadOnlyList<ChannelSlice> Slices,
    IReadOnlyDictionary<Value, ChannelMap> Values,
    IReadOnlyDictionary<Operation, ChannelMap> GroupAttrs);
