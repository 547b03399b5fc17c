using System.Globalization;
using System.Text;
using Mopt.Ir;

namespace Mopt.Api;

/// <summary>
/// What <c>mopt-opt --summarize</c> reports, after TensorFlow's summarize_graph: inputs and outputs with shapes, the op
/// histogram, parameters and bytes by element type, the constant count and the opset; <see cref="Text"/> is the text
/// the command prints (for a module in tf.*, summarize_graph's layout, with the command lines to deploy it).
/// </summary>
public sealed record ModelSummary(
    string? Name, string? Source, long? Opset,
    IReadOnlyList<TensorInfo> Inputs, IReadOnlyList<TensorInfo> Outputs,
    IReadOnlyList<OpCount> Operations, int ComputeOperations, int Constants,
    IReadOnlyList<ParameterCount> Parameters, int ResourceBlobs, long ResourceBytes, string Text)
{
    /// <summary>All parameters (constant elements), of every element type.</summary>
    public long ParameterTotal => Parameters.Sum(p => p.Count);

    /// <summary>The summary of <paramref name="module"/>; <paramref name="input"/> names it in a TensorFlow summary's command lines.</summary>
    public static ModelSummary Of(MirModule module, string? input = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var inputs = TensorInfo.Inputs(module);
        var outputs = TensorInfo.Outputs(module);
        var ops = module.AllOperations().Where(o => o.Name != FuncOp.ReturnOpName).ToList();
        var histogram = Histogram(ops);
        // onnx.Constant (every importer but TensorFlow's: caffe.*, paddle.* modules hold their weights so too), and tf.Const
        var constants = ops.Where(o => o.OpType == "Constant" || o.Name == Mopt.Dialects.Tf.TfDialect.ConstOp).ToList();

        var byType = new SortedDictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
        foreach (var c in constants)
        {
            if (c.Results.Count != 1 || c.Result.Type is not TensorType t || t.ElementCount is not long n) continue;
            var cur = byType.GetValueOrDefault(t.Element.Name);
            byType[t.Element.Name] = (cur.Count + n, cur.Bytes + t.ByteSize!.Value);
        }
        var parameters = byType.Select(kv => new ParameterCount(kv.Key, kv.Value.Count, kv.Value.Bytes)).ToArray();
        var summary = new ModelSummary(module.Name, module.Op.GetString("mo.source"), module.Op.GetInt("onnx.opset"), inputs, outputs,
            histogram, ops.Count - constants.Count, constants.Count, parameters,
            module.Resources.Count, module.Resources.Blobs.Sum(b => (long)b.Value.Data.Length), Text: "");
        var text = Mopt.Passes.Tf.TfGraph.IsTf(module) ? TfGraphSummary.Describe(module, input ?? "model.pb") : summary.Describe();
        return summary with { Text = text };
    }

    /// <summary>The ops by name, most frequent first (then by name), without the function's return.</summary>
    internal static IReadOnlyList<OpCount> Histogram(IEnumerable<Operation> ops) =>
        ops.GroupBy(o => o.Name).Select(g => new OpCount(g.Key, g.Count()))
            .OrderByDescending(c => c.Count).ThenBy(c => c.Op, StringComparer.Ordinal).ToArray();

    private string Describe()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"model: {Name ?? "(unnamed)"}{(Source is null ? "" : $", from {Source}")}{(Opset is null ? "" : $", opset {Opset}")}");
        sb.AppendLine($"{Inputs.Count} input(s):");
        foreach (var i in Inputs) sb.AppendLine($"  {i.Name}: {i.Type}");
        sb.AppendLine($"{Outputs.Count} output(s):");
        foreach (var o in Outputs) sb.AppendLine($"  {o.Name}: {o.Type}");
        sb.AppendLine($"{ComputeOperations + Constants} operations ({ComputeOperations} compute, {Constants} constants):");
        foreach (var c in Operations)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {c.Count,6}  {c.Op}"));
        long totalBytes = Parameters.Sum(p => p.Bytes);
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"parameters: {ParameterTotal:N0} ({FormatBytes(totalBytes)})"));
        foreach (var p in Parameters)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {p.ElementType,-5} {p.Count,14:N0} elements  {FormatBytes(p.Bytes),10}"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"resource blobs: {ResourceBlobs} ({FormatBytes(ResourceBytes)})"));
        return sb.ToString();
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):F1} MiB"),
    };
}
