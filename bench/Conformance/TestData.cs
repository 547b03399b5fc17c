using Mopt.Frontend.Onnx;
using Mopt.Onnx.Proto;

namespace Mopt.Bench.Conformance;

/// <summary>Reads a data set's input_N.pb / output_N.pb (TensorProto) and matches inputs to the model's graph inputs.</summary>
public static class TestData
{
    /// <summary>A TensorProto as a host value (typed fields and raw_data both, through mopt's own tensor reader).</summary>
    public static HostValue FromProto(TensorProto t)
    {
        if (t.DataType == HostValue.StringType)
            return new HostValue(t.DataType, t.Dims.ToArray(), [], t.StringData.Select(s => s.ToStringUtf8()).ToArray());
        using var reader = new OnnxTensorReader(null, "test data");
        var data = reader.Read(t, $"tensor '{t.Name}'");
        return new HostValue(t.DataType, t.Dims.ToArray(), data.Bytes.ToArray(), null);
    }

    public static List<TensorProto> Files(string dataSet, string prefix)
    {
        var list = new List<TensorProto>();
        for (int i = 0; ; i++)
        {
            string file = Path.Combine(dataSet, $"{prefix}_{i}.pb");
            if (!File.Exists(file)) return list;
            list.Add(OnnxTensorReader.ParseTensorFile(file));
        }
    }

    /// <summary>The graph inputs the data set feeds: those that are not initializers, in order (as ONNX's backend runner).</summary>
    public static List<ValueInfoProto> FedInputs(ModelProto model)
    {
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return model.Graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
    }

    /// <summary>Why the runner cannot feed or check this model (sequence, map or optional values), or null.</summary>
    public static string? Unsupported(ModelProto model)
    {
        foreach (var vi in FedInputs(model).Concat(model.Graph.Output))
            if (vi.Type?.ValueCase is not TypeProto.ValueOneofCase.TensorType)
                return $"runner: {vi.Type?.ValueCase.ToString().ToLowerInvariant() ?? "untyped"} value '{vi.Name}' (only tensors are fed and checked)";
        return null;
    }

    /// <summary>The data set's inputs, named as the model's fed graph inputs.</summary>
    public static List<(string Name, HostValue Value)> Inputs(ModelProto model, string dataSet)
    {
        var fed = FedInputs(model);
        var protos = Files(dataSet, "input");
        var list = new List<(string, HostValue)>();
        for (int i = 0; i < protos.Count && i < fed.Count; i++)
        {
            var value = FromProto(protos[i]);
            // ONNX 1.12 stores bfloat16 test data as uint16 (numpy has no bfloat16): the same bits
            if (value.ElemType == UInt16 && fed[i].Type.TensorType.ElemType == BFloat16) value = value with { ElemType = BFloat16 };
            list.Add((fed[i].Name, value));
        }
        return list;
    }

    /// <summary>The expected outputs; uint16 data for a bfloat16 graph output is read as bfloat16 (see <see cref="Inputs"/>).</summary>
    public static List<HostValue> Outputs(ModelProto model, string dataSet)
    {
        var outputs = Files(dataSet, "output").Select(FromProto).ToList();
        for (int i = 0; i < outputs.Count && i < model.Graph.Output.Count; i++)
            if (outputs[i].ElemType == UInt16 && model.Graph.Output[i].Type.TensorType.ElemType == BFloat16)
                outputs[i] = outputs[i] with { ElemType = BFloat16 };
        return outputs;
    }

    private const int UInt16 = 4, BFloat16 = 16;
}
