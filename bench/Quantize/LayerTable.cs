using System.Text.Json;

namespace Mopt.Bench.Quantize;

/// <summary>One layer's figures from mopt-opt's quantization report: SQNR of its output in the int8 model and of its own quantization.</summary>
public sealed record LayerFigures(string Name, string OpType, double? SqnrDb, double? OwnSqnrDb, int Samples);

/// <summary>What a calibrated run's report (<c>--quant-report</c>) says per layer, and which method each activation's range came from.</summary>
public sealed record LayerTable(IReadOnlyList<LayerFigures> Layers, IReadOnlyDictionary<string, int> RangeMethods)
{
    public static LayerTable Read(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var layers = root.GetProperty("layers").EnumerateArray().Select(l => new LayerFigures(l.GetProperty("name").GetString()!,
            l.GetProperty("op_type").GetString()!, Db(l.GetProperty("sqnr_db")), Db(l.GetProperty("own_sqnr_db")), l.GetProperty("samples").GetInt32())).ToList();
        var methods = root.GetProperty("tensors").EnumerateArray()
            .Where(t => t.GetProperty("kind").GetString() == "activation" && !t.GetProperty("method").GetString()!.StartsWith("same as", StringComparison.Ordinal))
            .GroupBy(t => t.GetProperty("method").GetString()!).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new LayerTable(layers, methods);
    }

    /// <summary>null in the report is an exact layer (no error): infinite SQNR.</summary>
    private static double? Db(JsonElement e) => e.ValueKind == JsonValueKind.Null ? double.PositiveInfinity : e.GetDouble();
}
