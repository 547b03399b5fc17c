using System.Diagnostics;
using System.Globalization;

namespace Mopt.Passes.Quantization;

/// <summary>
/// Shows how far calibration is. On a terminal, one bar redrawn in place (at most ten times a second):
/// <c>label [#########---------------------] 37/100 samples  52.1 samples/s</c>. Otherwise (a log, a pipe) one plain
/// line each time another tenth is done, so a log of 100 samples gets 10 lines, not 100 redraws.
/// </summary>
public sealed class CalibrationProgress
{
    private const int BarWidth = 30;
    private static readonly TimeSpan RedrawEvery = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter _output;
    private readonly bool _isTerminal;
    private readonly string _label;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastDraw = TimeSpan.MinValue;
    private int _lastTenth;
    private int _lastLength;
    private bool _drawn;

    public CalibrationProgress(TextWriter output, bool isTerminal, string label)
    {
        _output = output;
        _isTerminal = isTerminal;
        _label = label;
    }

    /// <summary><paramref name="done"/> of <paramref name="total"/> samples have run.</summary>
    public void Report(int done, int total)
    {
        if (total <= 0) return;
        var elapsed = _clock.Elapsed;
        if (_isTerminal)
        {
            if (_drawn && done < total && elapsed - _lastDraw < RedrawEvery) return;
            Draw(done, total, elapsed);
            return;
        }
        int tenth = (int)Math.Min(10, (long)done * 10 / total);
        if (tenth <= _lastTenth) return;
        _lastTenth = tenth;
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{_label}: {(long)done * 100 / total}% ({done}/{total} samples, {Rate(done, elapsed):F1} samples/s)"));
        _output.Flush();
    }

    /// <summary>Ends the bar's line on a terminal (a plain log needs nothing more).</summary>
    public void Finish()
    {
        if (!_isTerminal || !_drawn) return;
        _output.WriteLine();
        _output.Flush();
        _drawn = false;
    }

    private void Draw(int done, int total, TimeSpan elapsed)
    {
        int filled = (int)Math.Clamp((long)done * BarWidth / total, 0, BarWidth);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{_label} [{new string('#', filled)}{new string('-', BarWidth - filled)}] {done}/{total} samples  {Rate(done, elapsed):F1} samples/s");
        // Spaces rub out the tail of a longer previous line.
        _output.Write('\r' + line.PadRight(_lastLength));
        _output.Flush();
        _lastLength = line.Length;
        _lastDraw = elapsed;
        _drawn = true;
    }

    private static double Rate(int done, TimeSpan elapsed) => elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0;
}
