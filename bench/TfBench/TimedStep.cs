using System.Diagnostics;

namespace Mopt.Bench.Tf;

/// <summary>
/// One step to time: <c>prepare</c> (untimed: delete the last output, collect garbage) then <c>run</c>, which returns
/// null on success or the reason it did not run. The first run is the warm-up and the probe: a step whose warm-up
/// fails is not timed again and shows the reason.
/// </summary>
public sealed class TimedStep(string name, Action prepare, Func<string?> run)
{
    private readonly List<double> _ms = [];

    public string Name { get; } = name;
    public string? Failure { get; private set; }

    public void WarmUp()
    {
        prepare();
        Failure = run();
    }

    public void Time()
    {
        if (Failure is not null) return;
        prepare();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var clock = Stopwatch.StartNew();
        var failure = run();
        double ms = clock.Elapsed.TotalMilliseconds;
        if (failure is not null) throw new BenchException($"{Name} failed after its warm-up ran: {failure}");
        _ms.Add(ms);
    }

    public Timing Result => Failure is { } f ? Timing.Missing(f) : Timing.Of(BenchSupport.Median(_ms));
}
