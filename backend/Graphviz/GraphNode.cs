using Mopt.Ir;

namespace Mopt.Backend.Graphviz;

/// <summary>
/// One node of the op graph: an operation with the weights folded into it, or a function's argument or result.
/// <see cref="Key"/> is what a diff matches it by (its name, else its op and inputs; see <see cref="OpGraph"/>).
/// </summary>
internal sealed class GraphNode(string id, string key, NodeKind kind, GraphScope scope)
{
    public string Id { get; } = id;
    public string Key { get; } = key;
    public NodeKind Kind { get; } = kind;
    public GraphScope Scope { get; } = scope;

    /// <summary>The operation (<see cref="NodeKind.Operation"/>).</summary>
    public Operation? Op { get; init; }
    /// <summary>An argument's or result's type.</summary>
    public MirType? Type { get; init; }
    /// <summary>An argument's or result's name (<c>mo.name</c>, else its position).</summary>
    public string? Name { get; init; }

    public List<FoldedWeight> Weights { get; } = new();
    public List<GraphInput> Inputs { get; } = new();

    public ChangeKind Change { get; set; }
    /// <summary>What changed, for a changed node's label and tooltip.</summary>
    public string? ChangeNote { get; set; }
    /// <summary>The module the node was read from (a ghost's is the other model's): where its weights' blobs are.</summary>
    public required MirModule Module { get; init; }
}
