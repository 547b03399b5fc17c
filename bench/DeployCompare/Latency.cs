using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Mopt.Backend.Runtime;
using Mopt.Ir;

namespace Mopt.Bench.DeployCompare;

public sealed record LatencyResult(string Name, double MedianMs, double MinMs, double CpuMs, IReadOnlyList<double> WallMs);

/// <summary>What the deploy benchmark derives from the shared latency runs: per-model figures, a ratio interval, output differences.</summary>
public static class DeployLatency
{
    public static LatencyResult Of(TimedSession s) =>
        new(s.Name, BenchSupport.Median(s.Wall) * 1e3, s.Wall.Min() * 1e3, BenchSupport.Median(s.Cpu) * 1e3, s.Wall.Select(w => w * 1e3).ToArray());

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
