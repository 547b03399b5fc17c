namespace Mopt.Frontend.Tf;

/// <summary>How a GraphDef is imported.</summary>
public sealed record TfImportOptions
{
    /// <summary>The function's results as tensor names (<c>node</c> or <c>node:1</c>); empty: every node no one consumes.</summary>
    public IReadOnlyList<string> Outputs { get; init; } = [];

    public static readonly TfImportOptions Default = new();
}
