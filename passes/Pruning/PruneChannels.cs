using System.Globalization;
using System.Text.RegularExpressions;
using Mopt.Dialects.Onnx;
using Mopt.Ir;

namespace Mopt.Passes.Pruning;

/// <summary>
/// <c>--prune-channels='params=REGEX ratio=0.3 ratios=NAME:R,... criterion=l1_norm'</c>: removes the least important
/// output channels of each group-1 <c>onnx.Conv</c> whose weight's name (its location: the source model's parameter
/// name) matches <c>params</c> in full, as PaddleSlim's structural pruning does (mopt does not train: accuracy usually
/// needs fine-tuning afterwards).
/// <code>
/// Before: %a = Conv(%x, %wa : 8x3x3x3) ; %b = Conv(%y, %wb : 8x8x1x1) ; %s = Add(BN(%a), BN(%b)) ; %d = Conv(%s, %wd : 8x1x3x3) {group = 8}
///         %o = Conv(Relu(%d), %wo : 4x8x1x1)
/// After (params=wa ratio=0.5):
///         %a = Conv(%x, %wa' : 4x3x3x3) ; %b = Conv(%y, %wb' : 4x8x1x1) ; %s = Add(BN'(%a), BN'(%b)) ; %d = Conv(%s, %wd' : 4x1x3x3) {group = 4}
///         %o = Conv(Relu(%d), %wo' : 4x4x1x1)
/// </code>
/// Count: <c>min(C - 1, round(C × ratio))</c> channels go (round half to even, as Python's round in PaddleSlim), the
/// lowest scores of the criterion (<see cref="ChannelCriteria"/>; ties: the lower index is kept). The ratio is the
/// Conv's entry in <c>ratios=</c> if any, else <c>ratio</c>.
/// <para>
/// Conditions (<see cref="ChannelGroupPlanner"/>): the channels are followed through the Conv's bias,
/// BatchNormalization, per-channel constant Mul/Add/Sub/Div and PRelu, element-wise activations and pools, depthwise
/// Convs (group == input channels: weight axis 0 in blocks of the multiplier, bias and <c>group</c> shrink, their output
/// carries the channels on), Concat on axis 1 (the channels continue at their offset), Squeeze of spatial axes, into the input channels of
/// group-1 Convs, and through Flatten(axis 1) into the rows of a Gemm/MatMul weight. A non-constant Add/Sub/Mul of two
/// same-shaped tensors is a residual join: every group-1 Conv producing either side (back through the ops above) loses
/// the same channels, chosen once by the first matched Conv of the group (model order) with its criterion and ratio,
/// matched or not. Anything else (a graph input or non-Conv producer at a join, Reshape, Transpose, a graph output,
/// a join after a Concat) skips the whole group with the reason. Depthwise and grouped Convs are never pruned on
/// their own. New weights are new constants, sliced from the old bytes.
/// </para>
/// </summary>
public sealed class PruneChannels : Pass
{
    private readonly PassOption<string> _params = new("params", "regular expression over Conv weight names (matched in full)", "");
    private readonly PassOption<string> _ratio = new("ratio", "fraction of each matched Conv's output channels to remove, in [0, 1), or auto (per layer from sensitivities=)", "0.3",
        valid: r => r == "auto" || TryRatio(r, out _), allowed: "a number or auto");
    private readonly PassOption<double> _maxLoss = new("max-loss", "with ratio=auto: the largest accuracy loss a layer's ratio may cost, as in the sensitivity table", 0.01);
    private readonly PassOption<string> _sensitivities = new("sensitivities", "with ratio=auto: the table --prune-sensitivity wrote (JSON or CSV)", "");
    private readonly PassOption<string> _ratios = new("ratios", "per-layer ratios overriding ratio: WEIGHT:R,WEIGHT:R (exact weight names)", "");
    private readonly PassOption<string> _criterion = new("criterion", "how channels are ranked", "l1_norm",
        valid: c => ChannelCriteria.Names.Contains(c), allowed: "l1_norm, geometry_median or bn_scale");
    private readonly PassOption<string> _report = new("report", "write the report as JSON to this file (mopt-opt's --prune-report)", "");
    private IReadOnlyDictionary<string, double> _layerRatios = new Dictionary<string, double>();

    public override string Name => "prune-channels";
    public override string Summary => "Remove the least important output channels of Convs whose weight names match a regex (PaddleSlim-style; no training)";
    public override IReadOnlyList<PassOption> Options => [_params, _ratio, _ratios, _maxLoss, _sensitivities, _criterion, _report];

    /// <summary>Sets where the JSON report goes (mopt-opt's <c>--prune-report=FILE.json</c>).</summary>
    public void SetReport(string path) => _report.Parse(path);

    /// <summary>
    /// Per-layer ratios by exact weight name, on top of <c>ratios=</c> (e.g. picked from a sensitivity table). Each name
    /// must be the weight of a Conv that <c>params</c> matches, each ratio in [0, 1); checked when the pass runs.
    /// </summary>
    public void SetLayerRatios(IReadOnlyDictionary<string, double> ratios) => _layerRatios = ratios;

    public override void Run(MirModule module, PassContext context)
    {
        bool auto = _ratio.Value == "auto";
        double ratio = auto ? 0 : Ratio(_ratio.Value);
        CheckRatio(ratio, "ratio");
        if (auto && _sensitivities.Value.Length == 0)
            throw new PipelineException("pass 'prune-channels': ratio=auto needs sensitivities=FILE, the table --prune-sensitivity wrote");
        if (auto && !(_maxLoss.Value >= 0 && _maxLoss.Value < 1))
            throw new PipelineException($"pass 'prune-channels': max-loss={_maxLoss.Value.ToString(CultureInfo.InvariantCulture)} is outside [0, 1)");
        // Without params nothing is chosen: the pass runs with its defaults as every pass must (a no-op).
        if (_params.Value.Length == 0)
        {
            context.Log("no params=REGEX given: nothing to prune");
            context.MarkAllPreserved();
            return;
        }
        var regex = ConvWeights.Params(Name, _params.Value);

        var convs = module.AllOperations().Where(o => o.Name == "onnx.Conv").ToList();
        // The walk needs each tensor's channel axis: an imported model without value_info gets its types inferred first.
        long typed = convs.Any(c => c.Result.Type is not TensorType { IsRanked: true }) ? InferShapes.Infer(module, context, keepConflicts: true, quiet: true) : 0;
        if (typed > 0) { context.Count("types inferred first", typed); context.Log($"{typed} result types inferred first (as --infer-shapes)"); }
        var matched = convs.Where(c => ConvWeights.NameOf(c) is { } n && regex.IsMatch(n)).ToList();
        if (matched.Count == 0) throw ConvWeights.NoMatch(Name, _params.Value, convs.Select(ConvWeights.NameOf).OfType<string>().ToList());
        var matchedWeights = matched.Select(c => ConvWeights.NameOf(c)!).ToHashSet();
        if (auto) _layerRatios = AutoRatios(matchedWeights, context);
        var ratios = LayerRatios(matchedWeights);

        var before = ModelCost.Of(module, context.Dialects);
        var rows = new List<PrunedLayer>();
        var pruned = new HashSet<Operation>();
        foreach (var conv in matched)
        {
            if (pruned.Contains(conv)) { context.Log($"{FloatName(conv)}: already in the group of an earlier Conv (its choice, its ratio)"); continue; }
            if (ChannelGroupPlanner.Plan(conv, module, out var reason) is not { } group) { context.Skip(conv, reason); continue; }
            pruned.UnionWith(group.Producers);
            pruned.UnionWith(group.Depthwise);
            int count = PruneCount.Removed(group.Channels, ratios.GetValueOrDefault(ConvWeights.NameOf(conv)!, ratio));
            if (count == 0) continue;
            if (ChannelCriteria.Score(conv, module, _criterion.Value, out reason) is not { } scores) { context.Skip(conv, reason); continue; }
            var removed = ChannelCriteria.Lowest(scores, count);
            var depthwise = group.Depthwise.Select(d => (Op: d, Before: ((TensorType)d.GetOperand(1).Type).Shape![0])).ToList();
            ChannelSlicer.Apply(group, removed, module);
            string master = FloatName(conv);
            foreach (var p in group.Producers)
                rows.Add(new(FloatName(p), group.Channels, group.Channels - count, p == conv ? null : master));
            foreach (var (d, channels) in depthwise)
                rows.Add(new(FloatName(d), channels, ((TensorType)d.GetOperand(1).Type).Shape![0], master));
            context.Count("convs pruned", group.Producers.Count + depthwise.Count);
            context.Count("channels removed", (long)count * group.Producers.Count);
            context.Log($"pruned {master}: {group.Channels} -> {group.Channels - count} channels (removed {string.Join(", ", removed)})"
                + (group.Producers.Count + depthwise.Count > 1 ? $"; with it {string.Join(", ", group.Producers.Where(p => p != conv).Concat(group.Depthwise).Select(FloatName))}" : ""));
        }
        var after = rows.Count == 0 ? before : ModelCost.Of(module, context.Dialects);
        var report = new PruneReport(_params.Value, _ratio.Value, auto ? ratios : null, _criterion.Value, rows, context.Skips.ToList(), before, after);
        if (rows.Count > 0) context.Note(report.Table());
        if (_report.Value.Length > 0) context.WriteFile(_report.Value, report.WriteJson, "prune-channels report");
        if (rows.Count == 0 && typed == 0) context.MarkAllPreserved();
    }

    /// <summary>
    /// <c>ratio=auto</c>: each matched layer's ratio from the sensitivity table, the largest whose loss stays within
    /// <c>max-loss</c> (PaddleSlim's get_ratios_by_loss, <see cref="SensitivityTable.RatiosByLoss"/>); a matched layer the
    /// table does not have is not pruned (said under --debug), and a table with none of them is an error.
    /// </summary>
    private Dictionary<string, double> AutoRatios(HashSet<string> matchedWeights, PassContext context)
    {
        SensitivityTable table;
        try { table = SensitivityTableFile.Read(_sensitivities.Value); }
        catch (MirException e) { throw new PipelineException($"pass 'prune-channels': {e.Message}"); }
        var byLoss = table.RatiosByLoss(_maxLoss.Value);
        var chosen = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var name in matchedWeights)
        {
            if (byLoss.TryGetValue(name, out double r)) chosen[name] = r;
            else { chosen[name] = 0; context.Log($"ratio=auto: {name} is not in {_sensitivities.Value}: not pruned"); }
        }
        if (!matchedWeights.Any(byLoss.ContainsKey))
            throw new PipelineException($"pass 'prune-channels': {_sensitivities.Value} measures none of the Convs params='{_params.Value}' matches (it has "
                + string.Join(", ", byLoss.Keys.Take(5).Select(k => $"'{k}'")) + (byLoss.Count > 5 ? $", {byLoss.Count} in all" : "") + ")");
        foreach (var (name, r) in chosen) context.Log($"ratio=auto max-loss={_maxLoss.Value.ToString(CultureInfo.InvariantCulture)}: {name} at {r.ToString("0.####", CultureInfo.InvariantCulture)}");
        return chosen;
    }

    private static bool TryRatio(string text, out double ratio) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out ratio);

    private static double Ratio(string text) => TryRatio(text, out double r) ? r : throw new PipelineException($"pass 'prune-channels': ratio='{text}' is not a number");

    /// <summary><c>ratios=</c> and <see cref="SetLayerRatios"/> merged (the latter wins), every name a matched Conv weight.</summary>
    private Dictionary<string, double> LayerRatios(HashSet<string> matchedWeights)
    {
        var ratios = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var entry in _ratios.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = entry.LastIndexOf(':');
            if (colon <= 0 || !double.TryParse(entry[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double r))
                throw new PipelineException($"pass 'prune-channels': ratios entry '{entry}' is not WEIGHT:RATIO");
            ratios[entry[..colon]] = r;
        }
        foreach (var (name, r) in _layerRatios) ratios[name] = r;
        foreach (var (name, r) in ratios)
        {
            if (!matchedWeights.Contains(name))
                throw new PipelineException($"pass 'prune-channels': ratios names '{name}', which is not the weight of a Conv matched by params='{_params.Value}'");
            CheckRatio(r, $"ratios for '{name}':");
        }
        return ratios;
    }

    private static void CheckRatio(double ratio, string what)
    {
        if (!(ratio >= 0 && ratio < 1))
            throw new PipelineException($"pass 'prune-channels': {what}{(what.EndsWith(':') ? " " : "=")}{ratio.ToString(CultureInfo.InvariantCulture)} is outside [0, 1)");
    }



    private static string FloatName(Operation op) => op.Location.FirstName ?? op.Name;
}
