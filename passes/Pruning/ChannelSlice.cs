using Mopt.Ir;

namespace Mopt.Passes.Pruning;

/// <summary>One constant operand that loses the group's channels along <c>Axis</c>, where they sit as <c>Map</c> says.</summary>
internal sealed record ChannelSlice(Operation Op, int Operand, int Axis, ChannelMap Map);
