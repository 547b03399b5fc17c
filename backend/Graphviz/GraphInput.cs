using Mopt.Ir;

namespace Mopt.Backend.Graphviz;

/// <summary>
/// Where one operand of a drawn op comes from: result <paramref name="ResultIndex"/> of a drawn node, or a folded
/// <paramref name="Constant"/>; a diff compares these slot by slot.
/// </summary>
internal sealed record GraphInput(GraphNode? Source, int ResultIndex, Operation? Constant);
