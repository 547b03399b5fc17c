namespace Mopt.Backend.Graphviz;

/// <summary>A tensor from one node to another, labelled with its shape; a ghost edge touches a removed node.</summary>
internal sealed record GraphEdge(GraphNode From, GraphNode To, string Label, bool Ghost = false);
