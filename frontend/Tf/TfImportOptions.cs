namespace Mopt.Frontend.Tf;

/// <summary>How a GraphDef is imported.</summary>
public sealed record TfImportOptions
{
    /// <summary>The function's results as tensor names (<c>node</c> or <c>node:1</c>); empty: every node no one consumes.</summary>
    public IReadOnlyList<string> Outputs { get; init; } = [];

    /// <summary>
    /// Nodes to cut the graph at (transform_graph's <c>--inputs</c>): each becomes a function argument of its <c>T</c> or
    /// <c>dtype</c>, and only what lies between them and the outputs is imported. Empty: every Placeholder is an input.
    /// </summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];

    /// <summary>
    /// A checkpoint to freeze a MetaGraphDef with (its prefix, <c>model.ckpt</c>): variables become constants of its
    /// tensors (<see cref="TfFreezer"/>). Null: the graph is imported as it is.
    /// </summary>
    public string? Checkpoint { get; init; }

    public static readonly TfImportOptions Default = new();
}
