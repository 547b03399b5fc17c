using Mopt.Ir;

namespace Mopt.Backend.Graphviz;

/// <summary>A constant drawn inside the label of an op that reads it: operand <paramref name="Slot"/>, called <paramref name="SlotName"/>.</summary>
internal sealed record FoldedWeight(int Slot, string SlotName, Operation Constant);
