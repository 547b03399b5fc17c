namespace Mopt.Passes.Pruning;

/// <summary>
/// Where a group's channels sit on one axis of a tensor: group channel <c>i</c> occupies positions
/// <c>[Offset + i * Block, Offset + (i + 1) * Block)</c> (a Concat moves them by an offset; a depthwise channel
/// multiplier or a Flatten widens each channel to a block). Positions outside the group are kept.
/// </summary>
internal readonly record struct ChannelMap(long Offset, long Block)
{
    public static readonly ChannelMap Identity = new(0, 1);

    public bool IsIdentity => Offset == 0 && Block == 1;

    /// <summary>The map after each position became <paramref name="factor"/> consecutive positions (multiplier, Flatten).</summary>
    public ChannelMap Widen(long factor) => new(Offset * factor, Block * factor);

    /// <summary>The positions, of <paramref name="length"/>, that stay when the group channels <paramref name="removed"/> go (ascending).</summary>
    public int[] KeptPositions(long length, IReadOnlyCollection<int> removed)
    {
        var gone = new bool[length];
        foreach (var r in removed)
            for (long p = Offset + r * Block; p < Offset + (r + 1) * Block; p++) gone[p] = true;
        var kept = new List<int>((int)length);
        for (int p = 0; p < length; p++)
            if (!gone[p]) kept.Add(p);
        return [.. kept];
    }
}
