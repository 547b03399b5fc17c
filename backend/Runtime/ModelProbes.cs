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

    /// <summary>
    /// The module as ONNX bytes with the given values of its main function added as graph outputs, and the tensor
    /// name of each value in order. A value of a nested region (ONNX cannot output it) or one the module does not
    /// hold is an error.
    /// </summary>
    public static (byte[] Onnx, IReadOnlyList<string> Names) WithOutputs(MirModule module, IReadOnlyList<Value> values)
    {
        var model = Onnx.OnnxExporter.ToModel(module, out var names);
        var main = module.MainFunction.Body;
        var inputs = model.Graph.Input.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var existing = model.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var result = new List<string>(values.Count);
        foreach (var v in values)
        {
            bool inMain = v switch { OpResult r => r.Owner.Parent == main, BlockArgument a => a.Owner == main, _ => false };
            if (!inMain || !names.TryGetValue(v, out var name))
                throw new MirException($"cannot read {Describe(v)} out of a run: it is not a value of the main function");
            result.Add(name);
            // A graph input is already known to the caller; ONNX Runtime need not return it.
            if (!inputs.Contains(name) && existing.Add(name)) model.Graph.Output.Add(new ValueInfoProto { Name = name });
        }
        return (model.ToByteArray(), result);
    }

    private static string Describe(Value v) => v switch
    {
        OpResult r => $"result {r.Index} of '{r.Owner.Name}'{(r.Owner.Location.FirstName is { } n ? $" at \"{n}\"" : "")}",
        BlockArgument a => $"block argument {a.Index}",
        _ => "a value",
    };
}
