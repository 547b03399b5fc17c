namespace Mopt.Bench.Prune;

/// <summary>
/// One row of a net's table: a label and the --prune-channels options (null: the unpruned model, the latency peer).
/// </summary>
public sealed record PruneSetting(string Label, string? PassOptions)
{
    public static readonly PruneSetting Unpruned = new("unpruned", null);

    /// <summary>The rows: unpruned, then one per ratio, then the per-layer ratios the sensitivity analysis picks.</summary>
    public static List<PruneSetting> For(DigitsNet net, IEnumerable<double> ratios)
    {
        var rows = new List<PruneSetting> { Unpruned };
        rows.AddRange(ratios.Select(r => new PruneSetting($"ratio {r:0.###}", $"params={net.Params} ratio={r:0.###}")));
        if (Auto(net) is { } auto) rows.Add(auto);
        return rows;
    }

    /// <summary>
    /// The hook for `ratio=auto max-loss=...` (issue 15, part 4: per-layer ratios picked from the sensitivity table):
    /// return its row here once prune-channels takes it; every column then follows for free.
    /// </summary>
    private static PruneSetting? Auto(DigitsNet net) => null;
}
