namespace Mopt.Ir;

/// <summary>One line of a <see cref="LineChart"/>: its legend text and its points, in x order.</summary>
public sealed record LineSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);
