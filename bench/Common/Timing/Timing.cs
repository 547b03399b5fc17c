namespace Mopt.Bench;

/// <summary>
/// A measured step: its median wall and CPU milliseconds, or why there are none ("n/a" for a step mopt does not have yet).
/// </summary>
public sealed record Timing(double? Milliseconds, double? CpuMilliseconds, string Reason)
{
    public static Timing Of(double ms, double cpuMs) => new(ms, cpuMs, "");

    public static Timing Missing(string reason) => new(null, null, reason);

    public string Cell => Milliseconds is { } ms ? ms.ToString("F1") : Reason;

    public string CpuCell => CpuMilliseconds is { } ms ? ms.ToString("F1") : Reason;
}
