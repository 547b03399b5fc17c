using System.Globalization;
using Mopt.Ir;

namespace Mopt.Backend.Charts;

/// <summary>Draws <see cref="LineChart"/>s with ScottPlot: SVG (text, for docs and diffs) or PNG.</summary>
public sealed class ScottPlotChartWriter : ILineChartWriter
{
    private const int Width = 900, Height = 560;

    public IReadOnlyList<string> Formats { get; } = ["svg", "png"];

    /// <summary>The colour of line <paramref name="index"/> (ScottPlot's Category10), as SVG writes it (<c>#1f77b4</c>).</summary>
    public static string ColorOf(int index) => Palette.GetColor(index).ToHex().ToLowerInvariant()[..7];

    private static readonly ScottPlot.Palettes.Category10 Palette = new();

    private static readonly ScottPlot.MarkerShape[] Shapes =
        [ScottPlot.MarkerShape.FilledCircle, ScottPlot.MarkerShape.FilledSquare, ScottPlot.MarkerShape.FilledTriangleUp, ScottPlot.MarkerShape.FilledDiamond];

    public void CheckAvailable()
    {
        // Skia's dependency-free build finds fonts by scanning the font folders; without any, every label would be silently blank.
        if (SkiaSharp.SKTypeface.Default.GlyphCount == 0)
            throw new MirException("cannot draw charts here: no fonts are installed for their text (Debian: apt-get install fonts-dejavu-core)");
    }

    public void Write(LineChart chart, string format, Stream output)
    {
        CheckAvailable();
        var plot = new ScottPlot.Plot();
        for (int i = 0; i < chart.Series.Count; i++)
        {
            var series = chart.Series[i];
            var line = plot.Add.Scatter(series.X.ToArray(), series.Y.ToArray(), Palette.GetColor(i));
            line.LegendText = series.Name;
            line.LineWidth = 1.5f;
            line.MarkerSize = 5;
            // The palette has 10 colours: past them, another marker and dash pattern keep each line apart.
            line.MarkerShape = Shapes[i / 10 % Shapes.Length];
            line.LinePattern = i / 10 % 2 == 1 ? ScottPlot.LinePattern.Dashed : ScottPlot.LinePattern.Solid;
        }
        plot.Title(chart.Title);
        plot.XLabel(chart.XLabel);
        plot.YLabel(chart.YLabel);
        // Ticks at the measured x values, not at ScottPlot's round numbers between them.
        var xs = chart.Series.SelectMany(s => s.X).Distinct().Order().ToArray();
        if (xs.Length is > 0 and <= 20)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, xs.Select(x => x.ToString("0.###", CultureInfo.InvariantCulture)).ToArray());
        if (chart.Series.Count > 0) plot.ShowLegend(ScottPlot.Edge.Right);
        switch (format)
        {
            case "svg":
                using (var writer = new StreamWriter(output, new System.Text.UTF8Encoding(false), leaveOpen: true))
                    writer.Write(plot.GetSvgXml(Width, Height));
                break;
            case "png":
                output.Write(plot.GetImageBytes(Width, Height, ScottPlot.ImageFormat.Png));
                break;
            default:
                throw new ArgumentException($"charts are drawn as {string.Join(" or ", Formats)}, not '{format}'", nameof(format));
        }
    }
}
