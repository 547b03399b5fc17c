using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Mopt.Ir;

namespace Mopt.Backend.Runtime;

/// <summary>How ONNX Runtime runs a model: the reference runtime for verification, calibration and tests.</summary>
public sealed record OrtOptions
{
    public GraphOptimizationLevel Optimization { get; init; } = GraphOptimizationLevel.ORT_DISABLE_ALL;
    public int IntraOpThreads { get; init; } = 1;
}

/// <summary>One ONNX Runtime session over a serialized ONNX model, fed and read as <see cref="NpyArray"/>s.</summary>
public sealed class OrtRunner : IDisposable
{
    private readonly InferenceSession _session;

    public OrtRunner(byte[] onnxModel, OrtOptions? options = null, string what = "model")
    {
        using var so = Options(options);
        try { _session = new InferenceSession(onnxModel, so); }
        catch (OnnxRuntimeException e) { throw new MirException($"ONNX Runtime cannot load the {what}: {FirstLine(e.Message)}"); }
    }

    /// <summary>A session over a file (so that external data beside it loads too).</summary>
    public OrtRunner(string onnxPath, OrtOptions? options = null)
    {
        using var so = Options(options);
        try { _session = new InferenceSession(onnxPath, so); }
        catch (OnnxRuntimeException e) { throw new MirException($"ONNX Runtime cannot load '{onnxPath}': {FirstLine(e.Message)}"); }
    }

    private static SessionOptions Options(OrtOptions? options)
    {
        options ??= new OrtOptions();
        return new SessionOptions
        {
            GraphOptimizationLevel = options.Optimization,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
    }

    public IReadOnlyList<string> InputNames => _session.InputNames;
    public IReadOnlyList<string> OutputNames => _session.OutputNames;

    /// <summary>The element type and shape (-1 for a symbolic dimension) of each input.</summary>
    public IEnumerable<(string Name, ElementType Element, long[] Shape)> Inputs =>
        _session.InputMetadata.Select(kv => (kv.Key, ElementOf(kv.Value.ElementDataType), kv.Value.Dimensions.Select(d => (long)d).ToArray()));

    public Dictionary<string, NpyArray> Run(IReadOnlyDictionary<string, NpyArray> inputs, IReadOnlyList<string>? outputs = null)
    {
        outputs ??= _session.OutputNames;
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach (var name in _session.InputNames)
            {
                if (!inputs.TryGetValue(name, out var array)) throw new MirException($"no value given for model input '{name}'");
                names.Add(name);
                values.Add(ToOrtValue(array));
            }
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, names, values, outputs);
            var output = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            for (int i = 0; i < outputs.Count; i++) output[outputs[i]] = FromOrtValue(results[i], outputs[i]);
            return output;
        }
        catch (OnnxRuntimeException e)
        {
            throw new MirException($"ONNX Runtime failed to run the model: {FirstLine(e.Message)}");
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    public void Dispose() => _session.Dispose();

    private static OrtValue ToOrtValue(NpyArray array)
    {
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, OrtTypeOf(array.Element), array.Shape);
        array.Data.CopyTo(value.GetTensorMutableRawData());
        return value;
    }

    private static NpyArray FromOrtValue(OrtValue value, string name)
    {
        if (!value.IsTensor) throw new MirException($"output '{name}' is not a tensor; only tensors can be compared");
        var info = value.GetTensorTypeAndShape();
        if (info.ElementDataType == TensorElementType.String) throw new MirException($"output '{name}' holds strings, which mopt does not compare");
        return new NpyArray(ElementOf(info.ElementDataType), info.Shape, value.GetTensorMutableRawData().ToArray());
    }

    public static TensorElementType OrtTypeOf(ElementType t) => t.Name switch
    {
        "f32" => TensorElementType.Float, "f64" => TensorElementType.Double, "f16" => TensorElementType.Float16,
        "bf16" => TensorElementType.BFloat16, "i8" => TensorElementType.Int8, "i16" => TensorElementType.Int16,
        "i32" => TensorElementType.Int32, "i64" => TensorElementType.Int64, "ui8" => TensorElementType.UInt8,
        "ui16" => TensorElementType.UInt16, "ui32" => TensorElementType.UInt32, "ui64" => TensorElementType.UInt64,
        "i1" => TensorElementType.Bool,
        _ => throw new MirException($"ONNX Runtime has no tensor type for {t}"),
    };

    public static ElementType ElementOf(TensorElementType t) => t switch
    {
        TensorElementType.Float => ElementType.F32, TensorElementType.Double => ElementType.F64,
        TensorElementType.Float16 => ElementType.F16, TensorElementType.BFloat16 => ElementType.BF16,
        TensorElementType.Int8 => ElementType.I8, TensorElementType.Int16 => ElementType.I16,
        TensorElementType.Int32 => ElementType.I32, TensorElementType.Int64 => ElementType.I64,
        TensorElementType.UInt8 => ElementType.UI8, TensorElementType.UInt16 => ElementType.UI16,
        TensorElementType.UInt32 => ElementType.UI32, TensorElementType.UInt64 => ElementType.UI64,
        TensorElementType.Bool => ElementType.I1,
        _ => throw new MirException($"ONNX Runtime element type {t} is not supported"),
    };

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
