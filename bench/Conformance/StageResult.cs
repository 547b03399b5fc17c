namespace Mopt.Bench.Conformance;

/// <summary>One stage of one test: null error is a pass; Category groups like failures.</summary>
public sealed record StageResult(string Stage, string Test, string? Error, string? Category)
{
    public bool Passed => Error is null;
}
