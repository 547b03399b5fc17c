using System.Text.Json;

namespace Mopt.Bench.Prune;

/// <summary>What mopt-opt's <c>--prune-report=FILE.json</c> says: the layers pruned, the Convs skipped and why, and the totals.</summary>
public sealed record PruneReport(int LayersPruned, IReadOnlyList<string> Skipped, long ParametersBefore, long ParametersAfter,
    long MultiplyAddsBefore, long MultiplyAddsAfter)
{
    public static PruneReport Read(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var r = doc.RootElement;
        try
        {
            return new PruneReport(
                r.GetProperty("layers").EnumerateArray().Count(l => l.GetProperty("channels_after").GetInt64() < l.GetProperty("channels_before").GetInt64()),
                r.GetProperty("skipped").EnumerateArray().Select(s => s.GetString() ?? "").ToList(),
                r.GetProperty("parameters_before").GetInt64(), r.GetProperty("parameters_after").GetInt64(),
                r.GetProperty("multiply_adds_before").GetInt64(), r.GetProperty("multiply_adds_after").GetInt64());
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException)
        {
            throw new BenchException($"{path}: not the prune report this benchmark knows ({e.Message})");
        }
    }
}
