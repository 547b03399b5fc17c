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

    /// <summary>
    /// After each step's own warm-up: rounds of <paramref name="steps"/>, interleaved and untimed, until the garbage
    /// collector has run <paramref name="collections"/> times (at most <paramref name="maxRounds"/> rounds); returns how
    /// many rounds that took. Until then the heap is not in its steady state: after a collection that left it larger
    /// (a net with more weights timed before), each run allocates into memory the process has never touched, one page
    /// fault per 4 KB, until the collector has gone through its gen0 budget and reuses it. Measured on MTCNN det1 after
    /// LeNet: 20, 31 and 40 page faults per import, deploy and merge run and those runs 25% slower; none after two
    /// collections, and the same figures with or without LeNet before (bench/README.md, caffe).
    /// </summary>
    public static int WarmUpCollector(IReadOnlyList<TimedStep> steps, int collections = 2, int maxRounds = 2000)
    {
        int start = GC.CollectionCount(0), rounds = 0;
        while (GC.CollectionCount(0) - start < collections && rounds < maxRounds && steps.Any(s => s.Failure is null))
        {
            foreach (var s in steps) s.RunUntimed();
            rounds++;
        }
        return rounds;
    }

    private void RunUntimed()
    {
        if (Failure is not null) return;
        prepare();
        if (run() is { } failure) throw new BenchException($"{Name} failed after its warm-up ran: {failure}");
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

    /// <summary>
    /// This step's time over <paramref name="other"/>'s, round by round (steps timed in the same rounds, interleaved):
    /// the median of each round's ratio, wall and CPU; null when either was not timed. A burst of load on a shared
    /// machine slows both steps of its round, and cancels out of that round's ratio, where it moves one step's median
    /// and not the other's when it falls on one step more than the other.
    /// </summary>
    public StepRatio? PairedRatio(TimedStep other)
    {
        if (Failure is not null || other.Failure is not null || _ms.Count == 0 || _ms.Count != other._ms.Count) return null;
        var wall = new double[_ms.Count];
        var cpu = new double[_ms.Count];
        for (int i = 0; i < wall.Length; i++)
        {
            wall[i] = _ms[i] / other._ms[i];
            cpu[i] = _cpuMs[i] / other._cpuMs[i];
        }
        return new StepRatio(BenchSupport.Median(wall), BenchSupport.Median(cpu));
    }
}
