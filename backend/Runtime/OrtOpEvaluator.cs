using Mopt.Ir;

namespace Mopt.Backend.Runtime;

/// <summary>
/// Evaluates one ONNX operation on constant inputs in ONNX Runtime: the fallback of <c>--fold-constants</c> for the
/// operations it does not evaluate itself. The operation goes into a one-node model (its inputs as initializers,
/// the module's opsets), which runs once with no inputs.
/// </summary>
/// <remarks>
/// <see cref="Evaluate"/> is an <see cref="OpEvaluator"/> (declared in the core); the passes never reference the runtime, so
/// the tool hands it to them in its PassServices (tools/mopt-opt/OrtPassServices.cs).
/// </remarks>
public static class OrtOpEvaluator
{
    /// <summary>
    /// One tensor per result of a tensor type (results typed <c>none</c> are left out), with the shape ONNX Runtime
    /// computed. <paramref name="inputs"/>: one per operand, null for an absent optional input. Throws a
    /// <see cref="MirException"/> when ONNX Runtime cannot load or run the operation.
    /// </summary>
    public static IReadOnlyList<DenseElementsAttr> Evaluate(Operation op, IReadOnlyList<DenseElementsAttr?> inputs, MirModule module)
    {
        if (inputs.Count != op.OperandCount) throw new ArgumentException($"{op.Name} has {op.OperandCount} operands but {inputs.Count} inputs were given");
        if (op.Regions.Count > 0) throw new MirException($"{op.Name} has subgraphs, which are not evaluated");

        var tiny = MirModule.Create("fold");
        foreach (var name in new[] { "onnx.opset", "onnx.opset_import", "onnx.ir_version" })
            if (module.Op.GetAttr(name) is { } a) tiny.Op.SetAttr(name, a);

        var tensorResults = op.Results.Where(r => r.Type is TensorType).ToList();
        var func = tiny.AddFunction("main", [], tensorResults.Select(r => r.Type).ToList());
        var builder = OpBuilder.AtEnd(func.Body);
        Value? noValue = null;
        var operands = new List<Value>();
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is not { } t)
            {
                noValue ??= builder.Create("onnx.NoValue", [], [ElementType.None]).Result;
                operands.Add(noValue);
                continue;
            }
            operands.Add(builder.Constant(t, t.Type, Location.Named($"input_{i}")));
        }

        // The operation as it is (attributes and all), with fresh names for its results.
        var attrs = op.Attributes.Where(a => a.Name != "mo.outputs").ToList();
        var copy = builder.Create(op.Name, operands, op.Results.Select(r => r.Type), attrs, Location.Named("node"));
        foreach (var a in attrs) CopyBlobs(a.Value, module, tiny);
        builder.Return(copy.Results.Where(r => r.Type is TensorType));
        for (int i = 0; i < tensorResults.Count; i++)
            func.SetResultAttrs(i, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr($"output_{i}"))]));

        var bytes = ModelProbes.ToOnnxBytes(tiny);
        using var runner = new OrtRunner(bytes, what: $"one-node model of {op.Name}");
        var outputs = runner.Run(new Dictionary<string, NpyArray>());
        var results = new List<DenseElementsAttr>(tensorResults.Count);
        for (int i = 0; i < tensorResults.Count; i++)
        {
            var array = outputs[$"output_{i}"];
            results.Add(new DenseElementsAttr(new TensorType(array.Element, array.Shape), array.Data, false));
        }
        return results;
    }

    /// <summary>Tensor attributes kept in blobs (a ConstantOfShape value, say) need their blob in the one-node model.</summary>
    private static void CopyBlobs(Attr attr, MirModule from, MirModule to)
    {
        switch (attr)
        {
            case DenseResourceAttr res when from.Resources.Get(res.Key) is { } blob && !to.Resources.Contains(res.Key):
                to.Resources.Set(res.Key, blob);
                break;
            case ArrayAttr arr:
                foreach (var e in arr.Elements) CopyBlobs(e, from, to);
                break;
            case DictionaryAttr dict:
                foreach (var e in dict.Entries) CopyBlobs(e.Value, from, to);
                break;
        }
    }
}
