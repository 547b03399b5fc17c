using System.Globalization;
using System.Text;
using System.Text.Json;
using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>How one tensor was quantized: its range, the parameters chosen (one per channel when per-channel) and how.</summary>
public sealed record TensorRecord(string Name, string Kind, float Min, float Max, IReadOnlyList<QuantParams> Params, string Type,
    string Method, int? Axis)
{
    /// <summary>A weight quantized from its own values (min-max of each slice); <paramref name="values"/> are the floats already read.</summary>
    public static TensorRecord ForWeight(string name, ReadOnlySpan<float> values, IReadOnlyList<QuantParams> p, QuantType type, int? axis)
    {
        var (min, max) = QuantMath.MinMax(values);
        return new TensorRecord(name, "weight", min, max, p, QuantGraph.TypeName(type), "minmax", axis);
    }
}

/// <summary>
/// What quantization did to one layer's output on the calibration samples: relative error =
/// max|float − int8| / max|float|, and SQNR = 10·log10(Σ float² / Σ (float − int8)²) in dB, accumulated through the
/// layers before it; the "own" pair is what quantizing this output alone loses (rounding and clipping to its range).
/// </summary>
public sealed record LayerRecord(string Name, string OpType, double RelativeError, double SqnrDb, double OwnRelativeError, double OwnSqnrDb, int Samples);

/// <summary>
/// One activation's calibration histogram (<c>histograms=true</c>): bin i of <c>Positive</c> counts x in
/// [i·Width, (i+1)·Width), of <c>Negative</c> counts -x likewise.
/// </summary>
public sealed record TensorHistogram(string Name, float Min, float Max, double Width, long[] Positive, long[] Negative);

/// <summary>
/// The quantization report: <c>report=FILE.json</c> (written with Utf8JsonWriter, atomically, by
/// <see cref="PassContext.WriteFile"/>) and a table on stderr,
/// layers sorted by error, worst first, so a user can see which layers to exclude.
/// </summary>
public sealed class QuantizationReport
{
    public required string Mode { get; init; }
    public string? Method { get; init; }
    public string? Calibration { get; init; }
    public int Samples { get; init; }
    public List<TensorRecord> Tensors { get; } = new();
    public List<LayerRecord> Layers { get; } = new();
    /// <summary>What method=auto chose per tensor, with every candidate's error.</summary>
    public List<RangeChoice> Choices { get; } = new();
    public List<TensorHistogram> Histograms { get; } = new();

    public void WriteJson(Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("mode", Mode);
        if (Method is not null) w.WriteString("method", Method);
        if (Calibration is not null) w.WriteString("calibration", Calibration);
        w.WriteNumber("samples", Samples);
        w.WriteStartArray("tensors");
        foreach (var t in Tensors)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("kind", t.Kind);
            w.WriteString("type", t.Type);
            w.WriteString("method", t.Method);
            Range(w, t.Min, t.Max);
            if (t.Axis is int axis) w.WriteNumber("axis", axis);
            if (t.Params.Count == 1)
            {
                w.WritePropertyName("scale");
                Number(w, t.Params[0].Scale);
                w.WriteNumber("zero_point", t.Params[0].ZeroPoint);
            }
            else
            {
                w.WriteStartArray("scale");
                foreach (var p in t.Params) Number(w, p.Scale);
                w.WriteEndArray();
                w.WriteStartArray("zero_point");
                foreach (var p in t.Params) w.WriteNumberValue(p.ZeroPoint);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("layers");
        foreach (var l in SortedLayers())
        {
            w.WriteStartObject();
            w.WriteString("name", l.Name);
            w.WriteString("op_type", l.OpType);
            w.WritePropertyName("relative_error");
            Number(w, l.RelativeError);
            w.WritePropertyName("sqnr_db");
            Number(w, l.SqnrDb);
            w.WritePropertyName("own_relative_error");
            Number(w, l.OwnRelativeError);
            w.WritePropertyName("own_sqnr_db");
            Number(w, l.OwnSqnrDb);
            w.WriteNumber("samples", l.Samples);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (Choices.Count > 0)
        {
            w.WriteStartArray("auto");
            foreach (var c in Choices)
            {
                w.WriteStartObject();
                w.WriteString("tensor", c.Tensor);
                w.WriteString("chosen", c.Chosen.Method);
                w.WriteString("measured_on", c.MeasuredOn);
                w.WriteStartArray("candidates");
                foreach (var (candidate, error) in c.Errors)
                {
                    w.WriteStartObject();
                    w.WriteString("method", candidate.Method);
                    Range(w, candidate.Min, candidate.Max);
                    w.WritePropertyName("relative_squared_error");
                    Number(w, error);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (Histograms.Count > 0)
        {
            w.WriteStartArray("histograms");
            foreach (var h in Histograms)
            {
                w.WriteStartObject();
                w.WriteString("tensor", h.Name);
                Range(w, h.Min, h.Max);
                w.WriteNumber("bin_width", h.Width);
                w.WriteStartArray("positive");
                foreach (var n in h.Positive) w.WriteNumberValue(n);
                w.WriteEndArray();
                w.WriteStartArray("negative");
                foreach (var n in h.Negative) w.WriteNumberValue(n);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>"range": [min, max].</summary>
    private static void Range(Utf8JsonWriter w, double min, double max)
    {
        w.WriteStartArray("range");
        Number(w, min);
        Number(w, max);
        w.WriteEndArray();
    }

    /// <summary>JSON has no infinity: an exact layer (no error) has SQNR null.</summary>
    private static void Number(Utf8JsonWriter w, double value)
    {
        if (double.IsFinite(value)) w.WriteNumberValue(value);
        else w.WriteNullValue();
    }

    private IEnumerable<LayerRecord> SortedLayers() =>
        Layers.OrderByDescending(l => double.IsNaN(l.RelativeError) ? double.MaxValue : l.RelativeError).ThenBy(l => l.Name, StringComparer.Ordinal);

    /// <summary>The readable table: the worst <paramref name="top"/> layers, then the tensor count.</summary>
    public string Table(int top = 20)
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        var samples = Samples > 0 ? $", {Samples} calibration samples" : "";
        sb.AppendLine(ci, $"quantize-int8 report: {Mode}{(Method is null ? "" : $", {Method}")}, {Tensors.Count} tensors, {Layers.Count} layers{samples}");
        if (Layers.Count > 0)
        {
            sb.AppendLine("  error: the layer's float output against the int8 model's (accumulated from the layers before it);");
            sb.AppendLine("  own: what quantizing this output alone loses (rounding, clipping to its range)");
            sb.AppendLine(ci, $"  {"layer",-32} {"op",-18} {"rel. error",12} {"SQNR dB",9} {"own rel.",12} {"own SQNR",9}");
            foreach (var l in SortedLayers().Take(top))
                sb.AppendLine(ci, $"  {Clip(l.Name, 32),-32} {l.OpType,-18} {l.RelativeError.ToString("0.000e+00", ci),12} {Db(l.SqnrDb),9} " +
                                  $"{l.OwnRelativeError.ToString("0.000e+00", ci),12} {Db(l.OwnSqnrDb),9}");
            if (Layers.Count > top) sb.AppendLine(ci, $"  ... {Layers.Count - top} more layers in the JSON report");
        }
        if (Choices.Count > 0)
        {
            sb.AppendLine("  method=auto: each activation's range, the candidate that disturbs the layers reading it least");
            sb.AppendLine("  (relative squared error of their outputs; the JSON report has every candidate's range and error)");
            sb.AppendLine(ci, $"  {"tensor",-32} {"chosen",-18} {"error",10} {"minmax",10} {"entropy",10} {"mse",10}");
            foreach (var c in Choices.Take(top))
                sb.AppendLine(ci, $"  {Clip(c.Tensor, 32),-32} {c.Chosen.Method,-18} {Err(c, c.Chosen.Method),10} {Err(c, "minmax"),10} {Err(c, "entropy"),10} {Err(c, "mse"),10}");
            if (Choices.Count > top) sb.AppendLine(ci, $"  ... {Choices.Count - top} more tensors in the JSON report");
        }
        return sb.ToString();
    }

    /// <summary>A candidate's error, or "=" plus the method whose range it shares (equal ranges are measured once).</summary>
    private static string Err(RangeChoice c, string method)
    {
        foreach (var (candidate, error) in c.Errors)
            if (candidate.Method == method) return error.ToString("0.00e+00", CultureInfo.InvariantCulture);
        return "same";
    }

    private static string Db(double db) => double.IsFinite(db) ? db.ToString("F1", CultureInfo.InvariantCulture) : "exact";

    private static string Clip(string s, int width) => s.Length <= width ? s : s[..(width - 3)] + "...";
}
