namespace Mopt.Ir;

/// <summary>A chart of lines over one x axis (prune-sensitivity's loss by ratio), drawn by an <see cref="ILineChartWriter"/>.</summary>
public sealed record LineChart(string Title, string XLabel, string YLabel, IReadOnlyList<LineSeries> Series);
