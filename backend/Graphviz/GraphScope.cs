namespace Mopt.Backend.Graphviz;

/// <summary>
/// Where nodes are drawn: the whole graph, or a cluster (a function when a module has several; each region of an op
/// with regions, such as If's branches or a loop's body). <see cref="Key"/> matches a scope across a diff.
/// </summary>
internal sealed class GraphScope(string key, string label)
{
    public string Key { get; } = key;
    public string Label { get; } = label;
    public List<GraphNode> Nodes { get; } = new();
    public List<GraphScope> Children { get; } = new();
}
