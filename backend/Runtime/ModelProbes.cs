using Google.Protobuf;
using Mopt.Onnx.Proto;
using Mopt.Ir;

namespace Mopt.Backend.Runtime;

/// <summary>Runs a module in ONNX Runtime, and reads any intermediate tensor of it (what calibration needs).</summary>
public static class ModelProbes
{
    /// <summary>The module as ONNX bytes, ready for <see cref="OrtRunner"/>.</summary>
    public static byte[] ToOnnxBytes(MirModule module) => Onnx.OnnxExporter.ToModel(module).ToByteArray();

    /// <summary>
    /// The module as ONNX bytes with the named tensors added as graph outputs, so one run returns them too.
    /// A name no node produces is an error.
    /// </summary>
    public static byte[] WithOutputs(MirModule module, IEnumerable<string> tensorNames)
    {
        var model = Onnx.OnnxExporter.ToModel(module);
        var produced = model.Graph.Node.SelectMany(n => n.Output).Concat(model.Graph.Input.Select(i => i.Name))
            .Concat(model.Graph.Initializer.Select(i => i.Name)).ToHashSet(StringComparer.Ordinal);
        var existing = model.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in tensorNames)
        {
            if (!produced.Contains(name)) throw new MirException($"no tensor named '{name}' in the model");
            if (existing.Add(name)) model.Graph.Output.Add(new ValueInfoProto { Name = name });
        }
        return model.ToByteArray();
    }
}
