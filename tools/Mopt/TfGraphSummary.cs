using System.Globalization;
using System.Text;
using Mopt.Dialects.Tf;
using Mopt.Ir;
using Mopt.Passes.Tf;

namespace Mopt.Api;

/// <summary>
/// <c>--summarize</c> on a module in tf.*, as TensorFlow's summarize_graph prints a GraphDef: the inputs
/// (Placeholders, with dtype and shape), the outputs (with their op), the Const parameters (count and bytes), the
/// control edges, the op types by count, and the command lines to deploy it: mopt-opt's, and transform_graph's.
/// </summary>
internal static class TfGraphSummary
{
    public static string Describe(MirModule module, string input)
    {
        var sb = new StringBuilder();
        var func = module.MainFunction;
        var ops = func.Body.Operations.Where(o => o.Name != FuncOp.ReturnOpName).ToList();

        var inputs = new List<(string Name, string Type, string Shape)>();
        for (int i = 0; i < func.Arguments.Count; i++)
        {
            var (type, shape) = TypeAndShape(func.Arguments[i].Type);
            inputs.Add((func.ArgName(i) ?? $"arg{i}", type, shape));
        }
        sb.AppendLine(Invariant($"Found {inputs.Count} possible inputs: {string.Join(" ", inputs.Select(x => $"(name={x.Name}, type={x.Type}, shape={x.Shape})"))}"));

        var outputs = new List<string>();
        var ret = func.Return!;
        for (int i = 0; i < ret.OperandCount; i++)
        {
            var v = ret.GetOperand(i);
            var op = v is OpResult r ? r.Owner.OpType : "Placeholder";
            outputs.Add($"(name={func.ResultName(i) ?? TfGraph.NodeOf(v, func) ?? $"output{i}"}, op={op})");
        }
        sb.AppendLine(Invariant($"Found {outputs.Count} possible outputs: {string.Join(" ", outputs)}"));

        long parameters = 0, bytes = 0;
        foreach (var c in ops.Where(o => o.Name == TfDialect.ConstOp))
        {
            switch (c.GetAttr("value"))
            {
                case DenseElementsAttr { Type: var t }:
                    parameters += t.ElementCount ?? 0;
                    bytes += t.ByteSize ?? 0;
                    break;
                case DenseResourceAttr { Type: var t }:
                    parameters += t.ElementCount ?? 0;
                    bytes += t.ByteSize ?? 0;
                    break;
                case DictionaryAttr d when d.Get("tensor_proto") is DenseElementsAttr proto:
                    // A dtype the IR has no element type for (quint8 weights): its content, one byte per 8-bit element.
                    long content = ContentLength(proto.Data.Span);
                    parameters += content;
                    bytes += content;
                    break;
            }
        }
        long controlEdges = ops.Sum(o => (long)TfGraph.ControlInputs(o).Count);
        sb.AppendLine(Invariant($"Found {parameters:N0} ({Short(parameters)}) const parameters ({FormatBytes(bytes)}), and {controlEdges} control_edges"));
        var histogram = ops.GroupBy(o => o.OpType).Select(g => (Op: g.Key, Count: g.Count()))
            .Concat(inputs.Count > 0 ? [("Placeholder", inputs.Count)] : [])
            .OrderByDescending(g => g.Item2).ThenBy(g => g.Item1, StringComparer.Ordinal);
        sb.AppendLine(Invariant($"Op types used: {string.Join(", ", histogram.Select(g => $"{g.Item2} {g.Item1}"))}"));
        sb.AppendLine(Invariant($"{ops.Count + inputs.Count} nodes"));

        var inputNames = string.Join(",", inputs.Select(x => x.Name));
        var outputNames = string.Join(",", Enumerable.Range(0, ret.OperandCount).Select(i => func.ResultName(i) ?? $"output{i}"));
        // The shape to deploy for: the first input's, with batch 1 for an unknown dim.
        var deployShape = inputs.Count > 0 && func.Arguments[0].Type is TensorType { Shape: { } dims }
            ? string.Join(",", dims.Select(d => d < 0 ? 1 : d)) : null;
        sb.AppendLine("To deploy it (strip, fold constants and batch norms) with mopt-opt:");
        sb.AppendLine(Invariant($"  mopt-opt {input} --tf-outputs={outputNames} --pipeline='tf-deploy{(deployShape is null ? "" : $"{{shape={deployShape}}}")}' -o deployed.pb"));
        sb.AppendLine("or with TensorFlow's transform_graph:");
        var dtype = inputs.Count > 0 ? inputs[0].Type.Split('(')[0] : "float";
        var shapeParameter = deployShape is null ? "" : $", shape=\"{deployShape}\"";
        sb.AppendLine($"  transform_graph --in_graph={input} --out_graph=deployed.pb --inputs={inputNames} --outputs={outputNames} " +
            $"--transforms='strip_unused_nodes(type={dtype}{shapeParameter}) remove_nodes(op=Identity, op=CheckNumerics) " +
            "fold_constants(ignore_errors=true) fold_batch_norms fold_old_batch_norms'");
        return sb.ToString();
    }

    /// <summary>summarize_graph's spelling: <c>float(1)</c> (the dtype and its code) and <c>[?,784]</c>.</summary>
    private static (string Type, string Shape) TypeAndShape(MirType t)
    {
        var (element, dims) = t switch
        {
            TensorType tt => ((MirType)tt.Element, tt.Shape),
            OpaqueType { Spelling: var s } when s.StartsWith("!tf.Tensor<", StringComparison.Ordinal) && s.EndsWith('>') => OfTfTensor(s),
            OpaqueType o => (o, (IReadOnlyList<long>?)null),
            _ => (t, null),
        };
        var code = TfDataTypes.CodeOf(element);
        var type = code is int c ? $"{TfDataTypes.NameOf(c)}({c})" : element.ToString() ?? "?";
        var shape = dims is null ? "unknown" : "[" + string.Join(",", dims.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]";
        return (type, shape);
    }

    /// <summary>A dtype the IR has no element type for, as the importer spells it: <c>!tf.Tensor&lt;?x3xstring&gt;</c>, <c>!tf.Tensor&lt;*xstring&gt;</c>.</summary>
    private static (MirType Element, IReadOnlyList<long>? Dims) OfTfTensor(string spelling)
    {
        var parts = spelling["!tf.Tensor<".Length..^1].Split('x');
        MirType element = new OpaqueType("!tf." + parts[^1]);
        if (parts.Length == 2 && parts[0] == "*") return (element, null);
        var dims = parts[..^1].Select(d => d == "?" ? -1L : long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        return (element, dims);
    }

    /// <summary>The length of a serialized TensorProto's tensor_content (field 4), 0 when it has none.</summary>
    private static long ContentLength(ReadOnlySpan<byte> proto)
    {
        int i = 0;
        while (i < proto.Length)
        {
            ulong key = Varint(proto, ref i);
            switch (key & 7)
            {
                case 0: Varint(proto, ref i); break;
                case 1: i += 8; break;
                case 5: i += 4; break;
                case 2:
                    long length = (long)Varint(proto, ref i);
                    if (key >> 3 == 4) return length;
                    i += (int)length;
                    break;
                default: return 0;
            }
        }
        return 0;
    }

    private static ulong Varint(ReadOnlySpan<byte> bytes, ref int i)
    {
        ulong v = 0;
        for (int shift = 0; i < bytes.Length && shift < 64; shift += 7)
        {
            byte b = bytes[i++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) break;
        }
        return v;
    }

    private static string Short(long n) => n switch
    {
        >= 1_000_000_000 => Invariant($"{n / 1e9:0.##}B"),
        >= 1_000_000 => Invariant($"{n / 1e6:0.##}M"),
        >= 1_000 => Invariant($"{n / 1e3:0.##}k"),
        _ => Invariant($"{n}"),
    };

    private static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => Invariant($"{bytes} B"),
        < 1024 * 1024 => Invariant($"{bytes / 1024.0:F1} KiB"),
        _ => Invariant($"{bytes / (1024.0 * 1024):F1} MiB"),
    };

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
