using System.Globalization;
using System.Text;
using Mopt.Ir;

namespace Mopt.Tools.Opt;

/// <summary>
/// <c>--summarize</c>, after TensorFlow's summarize_graph: inputs and outputs with shapes, an op-type histogram,
/// parameters and bytes by element type, the constant count and the opset.
/// </summary>
public static class ModelSummary
{
    public static string Describe(MirModule module, string? input = null)
    {
        if (Mopt.Passes.Tf.TfGraph.IsTf(module)) return TfGraphSummary.Describe(module, input ?? "model.pb");
        var sb = new StringBuilder();
        var func = module.MainFunction;
        var source = module.Op.GetString("mo.source");
        var opset = module.Op.GetInt("onnx.opset");
        sb.AppendLine($"model: {module.Name ?? "(unnamed)"}{(source is null ? "" : $", from {source}")}{(opset is null ? "" : $", opset {opset}")}");

        sb.AppendLine($"{func.Arguments.Count} input(s):");
        for (int i = 0; i < func.Arguments.Count; i++)
            sb.AppendLine($"  {func.ArgName(i) ?? $"arg{i}"}: {func.Arguments[i].Type}");
        sb.AppendLine($"{func.Type.Results.Count} output(s):");
        for (int i = 0; i < func.Type.Results.Count; i++)
            sb.AppendLine($"  {func.ResultName(i) ?? $"result{i}"}: {func.Type.Results[i]}");

        var ops = module.AllOperations().Where(o => o.Name != FuncOp.ReturnOpName).ToList();
        var constants = ops.Where(o => o.OpType == "Constant").ToList();
        var compute = ops.Count - constants.Count;
        sb.AppendLine($"{ops.Count} operations ({compute} compute, {constants.Count} constants):");
        foreach (var group in ops.GroupBy(o => o.Name).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {group.Count(),6}  {group.Key}"));

        var byType = new SortedDictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
        foreach (var c in constants)
        {
            if (c.Results.Count != 1 || c.Result.Type is not TensorType t || t.ElementCount is not long n) continue;
            var cur = byType.GetValueOrDefault(t.Element.Name);
            byType[t.Element.Name] = (cur.Count + n, cur.Bytes + t.ByteSize!.Value);
        }
        long totalCount = byType.Values.Sum(v => v.Count), totalBytes = byType.Values.Sum(v => v.Bytes);
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"parameters: {totalCount:N0} ({FormatBytes(totalBytes)})"));
        foreach (var (type, (count, bytes)) in byType)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {type,-5} {count,14:N0} elements  {FormatBytes(bytes),10}"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"resource blobs: {module.Resources.Count} ({FormatBytes(module.Resources.Blobs.Sum(b => (long)b.Value.Data.Length))})"));
        return sb.ToString();
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):F1} MiB"),
    };
}
