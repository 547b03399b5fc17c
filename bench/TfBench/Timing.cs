namespace Mopt.Bench.Tf;

/// <summary>A measured step: its median milliseconds, or why there is none ("n/a" for a step mopt does not have yet).</summary>
public sealed record Timing(double? Milliseconds, string Reason)
{
    public static Timing Of(double ms) => new(ms, "");

    public static Timing Missing(string reason) => new(null, reason);

    public bool Available => Milliseconds is not null;

    public string Cell => Milliseconds is { } ms ? ms.ToString("F1") : Reason;
}
