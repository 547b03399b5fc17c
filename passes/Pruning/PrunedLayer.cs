namespace Mopt.Passes.Pruning;

/// <summary>One pruned Conv of the report: its channels before and after, and the Conv whose choice it followed (null: its own).</summary>
internal sealed record PrunedLayer(string Name, long Before, long After, string? PrunedWith);
