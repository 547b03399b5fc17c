using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Mopt.Backend.Runtime;

namespace Mopt.Bench;

// Latency in ONNX Runtime, shared by the deploy and quantize benchmarks (linked into each; needs the ORT package).

/// <summary>The CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): ORT with one intra-op thread computes on it, and other processes' load barely moves it.</summary>
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
/// One model in ONNX Runtime as its latency is measured: the given optimization level, one intra-op thread (or
/// <c>intraOpThreads</c>; 0 is ORT's default, one per physical core) and one inter-op thread, sequential execution; the input tensors made once, each run's wall and thread-CPU time around
/// <c>InferenceSession.Run</c>. With <c>keepFirstOutputs</c> the first run's outputs are kept for comparisons.
/// </summary>
public sealed class TimedSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly OrtValue[] _inputs;
    private readonly string[] _outputNames;
    private readonly bool _keepFirstOutputs;

    public string Name { get; }
    public List<double> Wall { get; } = new();
    public List<double> Cpu { get; } = new();
    public Dictionary<string, NpyArray>? FirstOutputs { get; private set; }
    public IReadOnlyList<string> OutputNames => _outputNames;
    public double MedianMs => BenchSupport.Median(Wall) * 1e3;
    public double MedianCpuMs => BenchSupport.Median(Cpu) * 1e3;

    /// <param name="feedOrder">When given, an input whose name the feeds lack takes the feed at its position (an optimizer renamed it).</param>
    public TimedSession(string name, string path, IReadOnlyDictionary<string, NpyArray> feeds, GraphOptimizationLevel optimization,
        IReadOnlyList<string>? feedOrder = null, bool keepFirstOutputs = false, int intraOpThreads = 1)
    {
        Name = name;
        _keepFirstOutputs = keepFirstOutputs;
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = optimization,
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try { _session = new InferenceSession(path, so); }
        catch (OnnxRuntimeException e) { throw new BenchException($"ONNX Runtime cannot load the {name} model '{path}': {e.Message.Split('\n')[0]}"); }
        _inputNames = _session.InputNames.ToArray();
        _inputs = new OrtValue[_inputNames.Length];
        for (int i = 0; i < _inputNames.Length; i++)
        {
            var array = feeds.TryGetValue(_inputNames[i], out var a) ? a
                : feedOrder is not null && i < feedOrder.Count ? feeds[feedOrder[i]]
                : throw new BenchException($"{name}: the model has an input '{_inputNames[i]}' the reference model does not have");
            var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, OrtRunner.OrtTypeOf(array.Element), array.Shape);
            array.Data.CopyTo(value.GetTensorMutableRawData());
            _inputs[i] = value;
        }
        _outputNames = _session.OutputNames.ToArray();
    }

    /// <summary><paramref name="repeat"/> inferences back to back, timed together; returns (and records unless a warm-up) seconds per inference.</summary>
    public double Run(int repeat, bool record)
    {
        double cpu0 = ThreadCpu.Now();
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < repeat; i++)
        {
            using var results = _session.Run(_runOptions, _inputNames, _inputs, _outputNames);
            if (_keepFirstOutputs && FirstOutputs is null) Keep(results); // only in the first warm-up run
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

public static class Latency
{
    /// <summary>
    /// Warm-up rounds, then <paramref name="rounds"/> timed rounds; each round runs every session once, the order rotating
    /// one place per round, so that drifting load and "who ran just before" hit every model alike. A model faster than
    /// <paramref name="minRunSeconds"/> per inference is timed over K inferences back to back per run (the same K for
    /// every session, from the slowest warm-up), so that each timed run is long against the clock. Returns K.
    /// </summary>
    public static int Measure(IReadOnlyList<TimedSession> sessions, int warmup, int rounds, double minRunSeconds)
    {
        double slowest = 0;
        int warm = Math.Max(1, warmup);
        for (int r = 0; r < warm; r++)
            foreach (var s in sessions)
            {
                double t = s.Run(1, record: false);
                if (r == warm - 1) slowest = Math.Max(slowest, t);
            }
        int repeat = slowest <= 0 ? 1 : (int)Math.Clamp(Math.Ceiling(minRunSeconds / slowest), 1, 100_000);
        if (repeat > 1)
            foreach (var s in sessions) s.Run(repeat, record: false);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        for (int r = 0; r < rounds; r++)
            for (int k = 0; k < sessions.Count; k++)
                sessions[(r + k) % sessions.Count].Run(repeat, record: true);
        return repeat;
    }

    /// <summary>The median over rounds of a's time / b's time in the same round: robust to load that drifts between rounds.</summary>
    public static double PairedRatio(TimedSession a, TimedSession b) => BenchSupport.Median(a.Wall.Zip(b.Wall, (x, y) => x / y));
}
