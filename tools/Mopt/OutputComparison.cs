namespace Mopt.Api;

/// <summary>
/// One output of a verification: max absolute and relative difference against the original, top-1 agreement over the
/// last axis (null when the output is not a batch of rows), and whether it passed the tolerance. An output the result
/// lacks is <see cref="Missing"/>; one whose shape changed has <see cref="ShapesMatch"/> false (and infinite differences).
/// </summary>
public sealed record OutputComparison(
    string Name, double MaxAbsDiff, double MaxRelDiff, double? Top1Agreement, bool ShapesMatch,
    IReadOnlyList<long> ExpectedShape, IReadOnlyList<long>? ActualShape, bool Missing, bool Passed);
