namespace Mopt.Passes.Pruning;

/// <summary>
/// One measured (layer, ratio) of a <see cref="SensitivityTable"/>: the loss relative to the baseline and the pruned
/// model's metric; both null when the pass removes no channel of the layer at this ratio (nothing to measure).
/// </summary>
public sealed record SensitivityPoint(double Ratio, double? Loss, double? MetricValue)
{
    /// <summary>Whether the pass removes no channel at this ratio (the model stays the unpruned one).</summary>
    public bool Unpruned => Loss is null;
}
