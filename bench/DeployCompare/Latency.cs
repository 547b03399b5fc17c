using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Mopt.Backend.Runtime;
using Mopt.Ir;

namespace Mopt.Bench.DeployCompare;

/// <summary>The CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): ORT with one intra-op thread computes on it.</summary>
public static partial class ThreadCpu
{
    private struct Timespec { public long Sec; public long Nsec; }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGettime(int clock, out Timespec ts);

    private const int ClockThreadCputimeId = 3;
    public static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    private static bool Probe()
    {
        try { return ClockGettime(ClockThreadCputimeId, out _) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    /// <summary>Seconds of CPU this thread has used (0 when unavailable).</summary>
    public static double Now()
    {
        if (!Available) return 0;
        ClockGettime(ClockThreadCputimeId, out var ts);
        return ts.Sec + ts.Nsec * 1e-9;
    }
}

/// <summary>
/// One model in ONNX Runtime as the latency is measured: optimizations disabled (ORT_DISABLE_ALL), one intra-op and one
/// inter-op thread, sequential execution; the input tensors made once (the same seeded arrays for every model), each
/// run's wall and thread-CPU time around <c>InferenceSession.Run</c>. The first run's outputs are kept for the
/// comparison with the original.
/// </summary>
public sealed class TimedSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly OrtValue[] _inputs;
    private readonly string[] _outputNames;

    public string Name { get; }
    public List<double> Wall { get; } = new();
    public List<double> Cpu { get; } = new();
    public Dictionary<string, NpyArray>? FirstOutputs { get; private set; }
    public IReadOnlyList<string> OutputNames => _outputNames;

    public TimedSession(string name, string path, IReadOnlyDictionary<string, NpyArray> feeds, IReadOnlyList<string> feedOrder)
    {
        Name = name;
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try { _session = new InferenceSession(path, so); }
        catch (OnnxRuntimeException e) { throw new BenchException($"ONNX Runtime cannot load the {name} output '{path}': {e.Message.Split('\n')[0]}"); }
        _inputNames = _session.InputNames.ToArray();
        _inputs = new OrtValue[_inputNames.Length];
        for (int i = 0; i < _inputNames.Length; i++)
        {
            // by name; by position if an optimizer renamed an input
            var array = feeds.TryGetValue(_inputNames[i], out var a) ? a
                : i < feedOrder.Count ? feeds[feedOrder[i]]
                : throw new BenchException($"the {name} output has an input '{_inputNames[i]}' the original does not have");
            var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, OrtRunner.OrtTypeOf(array.Element), array.Shape);
            array.Data.CopyTo(value.GetTensorMutableRawData());
            _inputs[i] = value;
        }
        _outputNames = _session.OutputNames.ToArray();
    }

    /// <summary>
    /// <paramref name="repeat"/> inferences back to back, timed together; the time per inference is recorded unless
    /// this is a warm-up. Returns the wall seconds per inference.
    /// </summary>
    public double Run(int repeat, bool record)
    {
        double cpu0 = ThreadCpu.Now();
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < repeat; i++)
        {
            using var results = _session.Run(_runOptions, _inputNames, _inputs, _outputNames);
            if (FirstOutputs is null) Keep(results); // only in the first warm-up run
        }
        double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds / repeat;
        double cpu = (ThreadCpu.Now() - cpu0) / repeat;
        if (record) { Wall.Add(wall); Cpu.Add(cpu); }
        return wall;
    }

    private void Keep(IReadOnlyList<OrtValue> results)
    {
        FirstOutputs = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        for (int i = 0; i < _outputNames.Length; i++)
        {
            var v = results[i];
            if (!v.IsTensor) throw new BenchException($"{Name}: output '{_outputNames[i]}' is not a tensor");
            var info = v.GetTensorTypeAndShape();
            FirstOutputs[_outputNames[i]] = new NpyArray(OrtRunner.ElementOf(info.ElementDataType), info.Shape, v.GetTensorMutableRawData().ToArray());
        }
    }

    public void Dispose()
    {
        foreach (var v in _inputs) v?.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}

public sealed record LatencyResult(string Name, double MedianMs, double MinMs, double CpuMs, IReadOnlyList<double> WallMs);

public static class Latency
{
    /// <summary>
    /// Warm-up rounds, then <paramref name="runs"/> timed rounds; each round runs every session once, the order rotating
    /// one place per round (original, mopt, ort; mopt, ort, original; ...), so that drifting load and "who ran just
    /// before" hit every model alike. A model faster than <paramref name="minRunSeconds"/> per inference is timed over
    /// K inferences back to back per run (the same K for every session, from the slowest warm-up), so that each timed
    /// run is long against the clock and the cost of a timer read. Returns K.
    /// </summary>
    public static int Measure(IReadOnlyList<TimedSession> sessions, int warmup, int runs, double minRunSeconds)
    {
        double slowest = 0;
        for (int r = 0; r < Math.Max(1, warmup); r++)
            foreach (var s in sessions)
            {
                double t = s.Run(1, record: false);
                if (r == Math.Max(1, warmup) - 1) slowest = Math.Max(slowest, t);
            }
        int repeat = slowest <= 0 ? 1 : (int)Math.Clamp(Math.Ceiling(minRunSeconds / slowest), 1, 100_000);
        if (repeat > 1)
            foreach (var s in sessions) s.Run(repeat, record: false);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        for (int r = 0; r < runs; r++)
            for (int k = 0; k < sessions.Count; k++)
                sessions[(r + k) % sessions.Count].Run(repeat, record: true);
        return repeat;
    }

    public static LatencyResult Of(TimedSession s) =>
        new(s.Name, BenchSupport.Median(s.Wall) * 1e3, s.Wall.Min() * 1e3, BenchSupport.Median(s.Cpu) * 1e3, s.Wall.Select(w => w * 1e3).ToArray());

    /// <summary>The median over rounds of a's time / b's time in the same round: robust to load that drifts between rounds.</summary>
    public static double PairedRatio(TimedSession a, TimedSession b) =>
        BenchSupport.Median(a.Wall.Zip(b.Wall, (x, y) => x / y));

    /// <summary>
    /// A 95% bootstrap interval of median(a) / median(b): the rounds resampled with replacement (a and b of one round
    /// together, as they ran side by side), 2,000 times with a fixed seed. When it contains 1.0, the run-to-run noise
    /// on this machine is as large as the difference between the two.
    /// </summary>
    public static (double Low, double High) RatioInterval(TimedSession a, TimedSession b, int resamples = 2000)
    {
        var random = new Random(20240607);
        int n = Math.Min(a.Wall.Count, b.Wall.Count);
        var xa = new double[n];
        var xb = new double[n];
        var ratios = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < n; i++)
            {
                int j = random.Next(n);
                xa[i] = a.Wall[j];
                xb[i] = b.Wall[j];
            }
            ratios[r] = BenchSupport.Median(xa) / BenchSupport.Median(xb);
        }
        Array.Sort(ratios);
        return (ratios[(int)(0.025 * (resamples - 1))], ratios[(int)Math.Ceiling(0.975 * (resamples - 1))]);
    }

    /// <summary>Max relative difference (max |a-b| / max |ref|, per output; the largest over outputs) of one model's outputs to the original's.</summary>
    public static double MaxRelDiff(TimedSession original, TimedSession other, List<string> problems)
    {
        double worst = 0;
        var refs = original.FirstOutputs!;
        var got = other.FirstOutputs!;
        for (int i = 0; i < original.OutputNames.Count; i++)
        {
            string name = original.OutputNames[i];
            // by name; by position if an optimizer renamed an output
            NpyArray? actual = got.TryGetValue(name, out var a) ? a : i < other.OutputNames.Count ? got[other.OutputNames[i]] : null;
            if (actual is null) { problems.Add($"{other.Name}: output '{name}' is missing"); worst = double.PositiveInfinity; continue; }
            var d = OutputDifference.Compare(name, refs[name], actual);
            if (!d.ShapesMatch)
                problems.Add($"{other.Name}: output '{name}' has shape [{string.Join("x", actual.Shape)}], the original [{string.Join("x", refs[name].Shape)}]");
            worst = Math.Max(worst, d.MaxRelDiff);
        }
        return worst;
    }
}
