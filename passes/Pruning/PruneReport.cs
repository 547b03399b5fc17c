using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mopt.Passes.Pruning;

/// <summary>What --prune-channels did: the pruned Convs by group, the skipped ones and why, and the model's cost before and after.</summary>
internal sealed record PruneReport(string Params, string Ratio, IReadOnlyDictionary<string, double>? AutoRatios, string Criterion, IReadOnlyList<PrunedLayer> Layers,
    IReadOnlyList<string> Skipped, ModelCost Before, ModelCost After)
{
    public const string NoTraining = "mopt does not train: accuracy usually needs fine-tuning after pruning";

    /// <summary>The table printed to stderr.</summary>
    public string Table()
    {
        var sb = new StringBuilder();
        int width = Math.Max(5, Layers.Max(r => r.Name.Length));
        sb.AppendLine($"prune-channels report ({NoTraining})");
        sb.AppendLine($"  {"layer".PadRight(width)}  channels before  after");
        foreach (var l in Layers)
            sb.AppendLine($"  {l.Name.PadRight(width)}  {l.Before,15}  {l.After,5}" + (l.PrunedWith is { } m ? $"  (with {m})" : ""));
        if (Layers.Any(l => l.PrunedWith is not null))
            sb.AppendLine("  (with X): its channels are tied to X's (residual join or depthwise lockstep), so X's choice removed them, whether or not params matches it");
        sb.AppendLine($"  parameters: {Before.Parameters} -> {After.Parameters} ({Percent(Before.Parameters, After.Parameters)})");
        sb.Append($"  multiply-adds: {Before.MultiplyAdds} -> {After.MultiplyAdds} ({Percent(Before.MultiplyAdds, After.MultiplyAdds)})");
        return sb.ToString();
    }

    /// <summary>The report as JSON, written by hand (no reflection: mopt-opt is AOT-compiled).</summary>
    public void WriteJson(Stream stream)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("params", Params);
        if (double.TryParse(Ratio, System.Globalization.NumberStyles.Float, CultureInfo.InvariantCulture, out double ratio)) json.WriteNumber("ratio", ratio);
        else json.WriteString("ratio", Ratio);
        if (AutoRatios is not null)
        {
            json.WriteStartObject("ratios");
            foreach (var (name, r) in AutoRatios.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json.WriteNumber(name, r);
            json.WriteEndObject();
        }
        json.WriteString("criterion", Criterion);
        json.WriteStartArray("layers");
        foreach (var l in Layers)
        {
            json.WriteStartObject();
            json.WriteString("name", l.Name);
            json.WriteNumber("channels_before", l.Before);
            json.WriteNumber("channels_after", l.After);
            if (l.PrunedWith is { } m) json.WriteString("pruned_with", m);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("skipped");
        foreach (var skip in Skipped) json.WriteStringValue(skip);
        json.WriteEndArray();
        json.WriteNumber("parameters_before", Before.Parameters);
        json.WriteNumber("parameters_after", After.Parameters);
        json.WriteNumber("multiply_adds_before", Before.MultiplyAdds);
        json.WriteNumber("multiply_adds_after", After.MultiplyAdds);
        json.WriteString("note", NoTraining);
        json.WriteEndObject();
    }

    private static string Percent(long before, long after) =>
        before == 0 ? "-" : (100.0 * (after - before) / before).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + "%";
}
