namespace Mopt.Bench;

/// <summary>
/// A measured step: its median wall and CPU milliseconds, or why there are none ("n/a" for a step mopt does not have yet).
/// </summary>
public sealed record Timing(double? Milliseconds, double? CpuMilliseconds, string Reason)
{
    public static Timing Of(double ms, double cpuMs) => new(ms, cpuMs, "");

    public static Timing Missing(string reason) => new(null, null, reason);

    public string Cell => Milliseconds is { } ms ? Format(ms) : Reason;

    public string CpuCell => CpuMilliseconds is { } ms ? Format(ms) : Reason;

    // Two decimals under 10 ms: a sub-millisecond step's 0.20 and 0.29 ms (the same net on a quiet and a busy host) both read 0.2 with one.
    private static string Format(double ms) => ms.ToString(ms < 10 ? "F2" : "F1", System.Globalization.CultureInfo.InvariantCulture);
}
