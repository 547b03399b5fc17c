namespace Mopt.Ir;

/// <summary>
/// Draws charts for passes that report with one (prune-sensitivity). The passes define what they need; a charting
/// library above them implements it (<c>backend/Charts</c>, ScottPlot), and the tool hands it to the passes in
/// <c>PassServices.ChartWriter</c>, so that no pass references a drawing library.
/// </summary>
public interface ILineChartWriter
{
    /// <summary>The formats <see cref="Write"/> takes, as file extensions without the dot (<c>svg</c>, <c>png</c>).</summary>
    IReadOnlyList<string> Formats { get; }

    /// <summary>Throws a <see cref="MirException"/> saying why when charts cannot be drawn here (no fonts), so a pass fails before its work.</summary>
    void CheckAvailable();

    /// <summary>Draws <paramref name="chart"/> in <paramref name="format"/> (one of <see cref="Formats"/>) to <paramref name="output"/>.</summary>
    void Write(LineChart chart, string format, Stream output);
}
