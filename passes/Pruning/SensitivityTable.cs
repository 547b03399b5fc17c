using System.Globalization;

namespace Mopt.Passes.Pruning;

/// <summary>
/// What <c>prune-sensitivity</c> measured: for each layer (a Conv weight name) and pruning ratio, the relative loss of
/// the metric, <c>(baseline - pruned) / baseline</c>, as PaddleSlim's <c>sensitivity()</c> computes it; the ratios at
/// which the pass removes no channel (recorded as such, not as a loss of 0); the layers the pass skips, with why.
/// Ratios are keys rounded to 1e-6, so 0.3 and 0.30000000000000004 are one point (PaddleSlim compares float keys
/// exactly, which defeats a resume from ratios made by np.arange). Not thread-safe: its writer locks.
/// </summary>
public sealed class SensitivityTable(string metric, double baseline, int samples, string criterion)
{
    public const string Top1 = "top1", Agreement = "agreement";

    private readonly OrderedDictionary<string, SortedDictionary<double, SensitivityPoint>> _layers = new(StringComparer.Ordinal);
    private readonly OrderedDictionary<string, string> _skipped = new(StringComparer.Ordinal);

    /// <summary><c>top1</c> (accuracy against labels) or <c>agreement</c> (top-1 agreement with the unpruned model).</summary>
    public string Metric { get; } = metric;
    /// <summary>The unpruned model's metric.</summary>
    public double Baseline { get; } = baseline;
    /// <summary>How many predictions the metric counts (one per sample, or per row of a batch fed whole).</summary>
    public int Samples { get; } = samples;
    public string Criterion { get; } = criterion;

    /// <summary>The layers with at least one point, in the order they were added (the model's order when measured).</summary>
    public IEnumerable<string> Layers => _layers.Where(kv => kv.Value.Count > 0).Select(kv => kv.Key);

    /// <summary>A layer's points in ratio order (empty when it has none).</summary>
    public IReadOnlyList<SensitivityPoint> Points(string layer) =>
        _layers.TryGetValue(layer, out var points) ? points.Values.ToList() : [];

    /// <summary>The layers the pass skips, with why.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Skipped => _skipped.ToList();

    /// <summary>A ratio as a key: rounded to 1e-6.</summary>
    public static double Key(double ratio) => Math.Round(ratio, 6, MidpointRounding.ToEven);

    /// <summary>A ratio as the table writes it: <c>0.1</c>, <c>0.25</c>.</summary>
    public static string KeyText(double ratio) => Key(ratio).ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Reserves the layer's place in the order, so the file lists layers in the model's order whatever finishes first.</summary>
    public void AddLayer(string layer)
    {
        if (!_layers.ContainsKey(layer)) _layers.Add(layer, []);
    }

    public bool Has(string layer, double ratio) => _layers.TryGetValue(layer, out var points) && points.ContainsKey(Key(ratio));

    public SensitivityPoint? Get(string layer, double ratio) =>
        _layers.TryGetValue(layer, out var points) && points.TryGetValue(Key(ratio), out var p) ? p : null;

    /// <summary>Sets a point (a later one for the same layer and ratio replaces it); a layer with points is no longer skipped.</summary>
    public void Set(string layer, SensitivityPoint point)
    {
        AddLayer(layer);
        _layers[layer][Key(point.Ratio)] = point with { Ratio = Key(point.Ratio) };
        _skipped.Remove(layer);
    }

    /// <summary>Records that the pass skips the layer (it prunes nothing of it at any ratio), with why.</summary>
    public void Skip(string layer, string reason)
    {
        AddLayer(layer);
        _skipped[layer] = reason;
    }

    /// <summary>Forgets that a layer was skipped (a resume tries it again: the pass may have learnt to prune it).</summary>
    public void Unskip(string layer) => _skipped.Remove(layer);

    /// <summary>
    /// Per layer, the largest pruning ratio whose loss stays within <paramref name="maxLoss"/>, as PaddleSlim's
    /// <c>get_ratios_by_loss</c>: points sorted by ratio, scanned from the largest down to the first whose loss is at most
    /// <paramref name="maxLoss"/>; the last point gives its own ratio, any other is interpolated linearly towards the
    /// next one, <c>r0 + (maxLoss - l0)(r1 - r0)/(l1 - l0)</c>; no such point gives 0 (no interpolation from an
    /// implicit (0, 0)). A ratio at which the pass removes no channel counts as a loss of 0 here, which it is (the
    /// model is the unpruned one), as PaddleSlim would have measured it. Skipped layers are left out.
    /// </summary>
    public IReadOnlyDictionary<string, double> RatiosByLoss(double maxLoss)
    {
        var ratios = new OrderedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var layer in Layers)
        {
            var losses = Points(layer).Select(p => (p.Ratio, Loss: p.Loss ?? 0.0)).ToList();
            double chosen = 0.0;
            for (int i = losses.Count - 1; i >= 0; i--)
            {
                if (losses[i].Loss > maxLoss) continue;
                if (i == losses.Count - 1) chosen = losses[i].Ratio;
                else
                {
                    var (r0, l0) = losses[i];
                    var (r1, l1) = losses[i + 1];
                    chosen = r0 + (maxLoss - l0) * (r1 - r0) / (l1 - l0);
                }
                break;
            }
            ratios[layer] = chosen;
        }
        return ratios;
    }
}
