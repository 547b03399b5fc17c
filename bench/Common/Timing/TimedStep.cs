using System.Diagnostics;

namespace Mopt.Bench;

/// <summary>
/// One step to time: <c>prepare</c> (untimed: delete the last output) then <c>run</c>, which returns
/// null on success or the reason it did not run. The first warm-up run is the probe: a step whose warm-up fails is
/// not timed and shows the reason.
/// </summary>
public sealed class TimedStep(string name, Action prepare, Func<string?> run)
{
    private readonly List<double> _ms = [];
    private readonly List<double> _cpuMs = [];

    public string Name { get; } = name;
    public string? Failure { get; private set; }

    /// <summary>Runs the step <paramref name="times"/> times untimed; the first run is the probe.</summary>
    public void WarmUp(int times)
    {
        prepare();
        Failure = run();
        for (int i = 1; i < times && Failure is null; i++)
        {
            prepare();
            Failure = run();
        }
    }

    public void Time()
    {
        if (Failure is not null) return;
        prepare();
        double cpu = ProcessCpuClock.NowMilliseconds();
        var clock = Stopwatch.StartNew();
        var failure = run();
        double ms = clock.Elapsed.TotalMilliseconds;
        cpu = ProcessCpuClock.NowMilliseconds() - cpu;
        if (failure is not null) throw new BenchException($"{Name} failed after its warm-up ran: {failure}");
        _ms.Add(ms);
        _cpuMs.Add(cpu);
    }

    public Timing Result => Failure is { } f ? Timing.Missing(f) : Timing.Of(BenchSupport.Median(_ms), BenchSupport.Median(_cpuMs));
}
