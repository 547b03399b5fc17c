namespace Mopt.Bench.Prune;

/// <summary>
/// One row of a net's table: a label and the --prune-channels options (null: the unpruned model, the latency peer).
/// </summary>
public sealed record PruneSetting(string Label, string? PassOptions)
{
    public static readonly PruneSetting Unpruned = new("unpruned", null);

    /// <summary>The rows: unpruned, then one per ratio, then the per-layer ratios the sensitivity analysis picks.</summary>
    public static List<PruneSetting> For(DigitsNet net, IEnumerable<double> ratios, string? sensitivities, IEnumerable<double> maxLosses)
    {
        var rows = new List<PruneSetting> { Unpruned };
        rows.AddRange(ratios.Select(r => new PruneSetting($"ratio {r:0.###}", $"params={net.Params} ratio={r:0.###}")));
        // ratio=auto: each layer's ratio from the sensitivity table the analysis wrote (PaddleSlim's get_ratios_by_loss)
        if (sensitivities is not null)
            rows.AddRange(maxLosses.Select(l => new PruneSetting($"auto {l:0.###}", $"params={net.Params} ratio=auto max-loss={l:0.###} sensitivities={sensitivities}")));
        return rows;
    }
}
