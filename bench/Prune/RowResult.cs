namespace Mopt.Bench.Prune;

/// <summary>What one row measured: the written model, its report (none for the unpruned model), counted parameters, top-1, timings.</summary>
public sealed record RowResult(PruneSetting Setting, string ModelPath, PruneReport? Report, long CountedParameters, int Correct, int Total,
    double? CommandSeconds, double? PassSeconds)
{
    /// <summary>Latency medians (ms) and the paired ratio against the unpruned model, per ORT optimization level.</summary>
    public Dictionary<string, (double Ms, double CpuMs, double Ratio)> Latency { get; } = new(StringComparer.Ordinal);
}
