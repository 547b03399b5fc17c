using System.Globalization;
using System.Text;
using System.Text.Json;
using Mopt.Ir;

namespace Mopt.Passes.Pruning;

/// <summary>
/// A <see cref="SensitivityTable"/> as a file, JSON or CSV by the extension; read back to resume. Written by hand
/// (Utf8JsonWriter and JsonDocument, no reflection: mopt-opt is AOT-compiled).
/// <code>
/// {"metric": "top1", "baseline": 0.97, "samples": 500, "criterion": "l1_norm",
///  "layers": {"conv1_weights": {"0.1": 0.0, "0.2": 0.013}},        loss per ratio
///  "values": {"conv1_weights": {"0.1": 0.97, "0.2": 0.9574}},      the pruned model's metric per ratio
///  "unpruned": {"conv2_weights": ["0.1"]},                          ratios at which the pass removes no channel
///  "skipped": {"conv3_weights": "why the pass skips it"}}
///
/// # prune-sensitivity metric=top1 baseline=0.97 samples=500 criterion=l1_norm
/// layer,ratio,loss,metric_value
/// conv1_weights,0.1,0,0.97
/// conv2_weights,0.1,,                                               unpruned: no loss, no value
/// # skipped,conv3_weights,why the pass skips it
/// </code>
/// CSV fields are quoted as RFC 4180 says when they hold a comma, a quote or a line break.
/// </summary>
public static class SensitivityTableFile
{
    private const string CsvHeader = "layer,ratio,loss,metric_value";
    private const string CsvMeta = "# prune-sensitivity";
    private const string CsvSkipped = "# skipped,";

    /// <summary><c>json</c> or <c>csv</c> by the file's extension; anything else is an error.</summary>
    public static string FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".json" => "json",
        ".csv" => "csv",
        var e => throw new PipelineException($"pass 'prune-sensitivity': report={path}: the table is written as .json or .csv, not '{e}'"),
    };

    public static void Write(SensitivityTable table, string format, Stream stream)
    {
        if (format == "csv") WriteCsv(table, stream);
        else WriteJson(table, stream);
    }

    private static void WriteJson(SensitivityTable table, Stream stream)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("metric", table.Metric);
        json.WriteNumber("baseline", table.Baseline);
        json.WriteNumber("samples", table.Samples);
        json.WriteString("criterion", table.Criterion);
        WritePoints(json, "layers", table, p => p.Loss);
        WritePoints(json, "values", table, p => p.MetricValue);
        json.WriteStartObject("unpruned");
        foreach (var layer in table.Layers)
        {
            var unpruned = table.Points(layer).Where(p => p.Unpruned).ToList();
            if (unpruned.Count == 0) continue;
            json.WriteStartArray(layer);
            foreach (var p in unpruned) json.WriteStringValue(SensitivityTable.KeyText(p.Ratio));
            json.WriteEndArray();
        }
        json.WriteEndObject();
        json.WriteStartObject("skipped");
        foreach (var (layer, reason) in table.Skipped) json.WriteString(layer, reason);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WritePoints(Utf8JsonWriter json, string name, SensitivityTable table, Func<SensitivityPoint, double?> value)
    {
        json.WriteStartObject(name);
        foreach (var layer in table.Layers)
        {
            var measured = table.Points(layer).Where(p => !p.Unpruned).ToList();
            if (measured.Count == 0) continue;
            json.WriteStartObject(layer);
            foreach (var p in measured) json.WriteNumber(SensitivityTable.KeyText(p.Ratio), value(p)!.Value);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    private static void WriteCsv(SensitivityTable table, Stream stream)
    {
        using var w = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
        w.WriteLine($"{CsvMeta} metric={table.Metric} baseline={Number(table.Baseline)} samples={table.Samples} criterion={table.Criterion}");
        w.WriteLine(CsvHeader);
        foreach (var layer in table.Layers)
            foreach (var p in table.Points(layer))
                w.WriteLine($"{Field(layer)},{SensitivityTable.KeyText(p.Ratio)},{(p.Loss is { } l ? Number(l) : "")},{(p.MetricValue is { } v ? Number(v) : "")}");
        foreach (var (layer, reason) in table.Skipped) w.WriteLine($"{CsvSkipped}{Field(layer)},{Field(reason)}");
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Field(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

    /// <summary>Reads a table the pass wrote; a file that is not one is a <see cref="MirException"/> naming it.</summary>
    public static SensitivityTable Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }
        try { return FormatOf(path) == "csv" ? ReadCsv(text, path) : ReadJson(text); }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            throw new MirException($"{path}: not a prune-sensitivity table ({e.Message}); delete it or give another report=FILE");
        }
    }

    private static SensitivityTable ReadJson(string text)
    {
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        var table = new SensitivityTable(root.GetProperty("metric").GetString() ?? throw new FormatException("'metric' is null"),
            root.GetProperty("baseline").GetDouble(), root.GetProperty("samples").GetInt32(),
            root.GetProperty("criterion").GetString() ?? throw new FormatException("'criterion' is null"));
        var values = root.TryGetProperty("values", out var v) ? v : default;
        foreach (var layer in root.GetProperty("layers").EnumerateObject())
            foreach (var point in layer.Value.EnumerateObject())
            {
                double ratio = Ratio(point.Name);
                double? metric = values.ValueKind == JsonValueKind.Object && values.TryGetProperty(layer.Name, out var lv) && lv.TryGetProperty(point.Name, out var pv)
                    ? pv.GetDouble() : null;
                table.Set(layer.Name, new SensitivityPoint(ratio, point.Value.GetDouble(), metric));
            }
        if (root.TryGetProperty("unpruned", out var unpruned))
            foreach (var layer in unpruned.EnumerateObject())
                foreach (var ratio in layer.Value.EnumerateArray())
                    table.Set(layer.Name, new SensitivityPoint(Ratio(ratio.GetString() ?? ""), null, null));
        if (root.TryGetProperty("skipped", out var skipped))
            foreach (var layer in skipped.EnumerateObject()) table.Skip(layer.Name, layer.Value.GetString() ?? "");
        return table;
    }

    private static SensitivityTable ReadCsv(string text, string path)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var meta = lines.FirstOrDefault(l => l.StartsWith(CsvMeta + " ", StringComparison.Ordinal))
            ?? throw new FormatException($"no '{CsvMeta} metric=... baseline=... samples=... criterion=...' line");
        var settings = meta[CsvMeta.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "", StringComparer.Ordinal);
        var table = new SensitivityTable(settings["metric"], double.Parse(settings["baseline"], NumberStyles.Float, CultureInfo.InvariantCulture),
            int.Parse(settings["samples"], NumberStyles.Integer, CultureInfo.InvariantCulture), settings["criterion"]);
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.Length == 0 || line == CsvHeader || line.StartsWith(CsvMeta, StringComparison.Ordinal)) continue;
            if (line.StartsWith(CsvSkipped, StringComparison.Ordinal))
            {
                var s = Fields(line[CsvSkipped.Length..], path, i + 1);
                if (s.Count != 2) throw new FormatException($"line {i + 1}: a skipped layer is '# skipped,LAYER,REASON'");
                table.Skip(s[0], s[1]);
                continue;
            }
            if (line.StartsWith('#')) continue;
            var f = Fields(line, path, i + 1);
            if (f.Count != 4) throw new FormatException($"line {i + 1}: expected {CsvHeader}, found {f.Count} fields");
            double? loss = f[2].Length == 0 ? null : double.Parse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture);
            double? value = f[3].Length == 0 ? null : double.Parse(f[3], NumberStyles.Float, CultureInfo.InvariantCulture);
            if (loss is null != value is null) throw new FormatException($"line {i + 1}: a loss without a metric value (or the reverse)");
            table.Set(f[0], new SensitivityPoint(Ratio(f[1]), loss, value));
        }
        return table;
    }

    /// <summary>The fields of one CSV line (RFC 4180 quoting; the table never breaks a field over lines).</summary>
    private static List<string> Fields(string line, string path, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, wasQuoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); wasQuoted = false; }
            else if (c == '"' && field.Length == 0 && !wasQuoted) { quoted = true; wasQuoted = true; }
            else field.Append(c);
        }
        if (quoted) throw new FormatException($"{path}:{lineNumber}: a quoted field is not closed");
        fields.Add(field.ToString());
        return fields;
    }

    private static double Ratio(string key) =>
        double.TryParse(key, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) ? r : throw new FormatException($"ratio '{key}' is not a number");
}
