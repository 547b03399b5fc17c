using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mopt.Bench.Conformance;

/// <summary>ONNX Runtime on one model file: run it (graph optimizations off, 1 thread), or save its basic-optimized form.</summary>
public static class Ort
{
    private static SessionOptions Options(GraphOptimizationLevel level) => new()
    {
        GraphOptimizationLevel = level,
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
    };

    /// <summary>Runs the model on the named inputs; every output in the model's order.</summary>
    public static List<(string Name, HostValue Value)> Run(string model, IReadOnlyList<(string Name, HostValue Value)> inputs)
    {
        using var options = Options(GraphOptimizationLevel.ORT_DISABLE_ALL);
        using var session = new InferenceSession(model, options);
        var values = new List<OrtValue>();
        try
        {
            foreach (var (_, t) in inputs) values.Add(ToOrt(t));
            var names = session.OutputNames.ToList();
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, inputs.Select(i => i.Name).ToList(), values, names);
            var list = new List<(string, HostValue)>();
            for (int i = 0; i < names.Count; i++) list.Add((names[i], FromOrt(results[i])));
            return list;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>Writes ONNX Runtime's ORT_ENABLE_BASIC optimization of <paramref name="model"/> to <paramref name="output"/>.</summary>
    public static void OptimizeBasic(string model, string output)
    {
        using var options = Options(GraphOptimizationLevel.ORT_ENABLE_BASIC);
        options.OptimizedModelFilePath = output;
        using var session = new InferenceSession(model, options);
    }

    private static OrtValue ToOrt(HostValue t)
    {
        if (t.Strings is not null)
        {
            var s = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, t.Shape);
            for (int i = 0; i < t.Strings.Length; i++) s.StringTensorSetElementAt(t.Strings[i], i);
            return s;
        }
        var v = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)t.ElemType, t.Shape);
        t.Bytes.CopyTo(v.GetTensorMutableRawData());
        return v;
    }

    private static HostValue FromOrt(OrtValue v)
    {
        if (!v.IsTensor) throw new InvalidOperationException($"runner: output is a {v.OnnxType}, not a tensor");
        var info = v.GetTensorTypeAndShape();
        if (info.ElementDataType == TensorElementType.String)
            return new HostValue(HostValue.StringType, info.Shape, [], v.GetStringTensorAsArray());
        return new HostValue((int)info.ElementDataType, info.Shape, v.GetTensorMutableRawData().ToArray(), null);
    }
}
