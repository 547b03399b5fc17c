namespace Mopt.Passes.Pruning;

/// <summary>How many of a layer's channels go at a ratio, as PaddleSlim counts them.</summary>
internal static class PruneCount
{
    /// <summary>
    /// <c>min(C - 1, round(C * ratio))</c> with Python's round (half to even: 2.5 -> 2, 3.5 -> 4), as PaddleSlim's
    /// <c>int(round(len(sorted_idx) * ratio))</c>; at least one channel stays.
    /// </summary>
    public static int Removed(long channels, double ratio) =>
        (int)Math.Min(channels - 1, (long)Math.Round(channels * ratio, MidpointRounding.ToEven));
}
