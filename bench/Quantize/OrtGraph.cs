using Microsoft.ML.OnnxRuntime;
using Mopt.Onnx.Proto;

namespace Mopt.Bench.Quantize;

/// <summary>
/// The graph ONNX Runtime actually runs: a session at ORT_ENABLE_ALL writes its optimized model, whose op types show whether
/// the QDQ pairs became integer kernels (QLinearConv, QGemm, ...) or stayed as QuantizeLinear/DequantizeLinear around float ops.
/// </summary>
public static class OrtGraph
{
    /// <summary>
    /// How many initializers are also listed as graph inputs (the IR version &lt; 4 style, which mopt keeps on export):
    /// ONNX Runtime treats such an initializer as overridable, not constant, which can keep it from fusing a QDQ group that
    /// reads it into an integer kernel (super_resolution's Convs stay DequantizeLinear + Conv + QuantizeLinear until the
    /// initializers are no longer inputs; then they become QLinearConv).
    /// </summary>
    public static int InitializersAsInputs(string path)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var inputs = model.Graph.Input.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        return model.Graph.Initializer.Count(t => inputs.Contains(t.Name));
    }

    /// <summary>"4 QLinearConv, 2 QuantizeLinear, ..." for the model as ORT optimizes it (ORT_ENABLE_ALL, CPU).</summary>
    public static string OpTypes(string path)
    {
        string optimized = path + ".ort-optimized.onnx";
        try
        {
            using (var so = new SessionOptions
                   {
                       GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                       OptimizedModelFilePath = optimized,
                       IntraOpNumThreads = 1,
                       LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                   })
            using (new InferenceSession(path, so)) { }
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized));
            return string.Join(", ", model.Graph.Node.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"{g.Count()} {g.Key}"));
        }
        catch (OnnxRuntimeException e)
        {
            return $"(ONNX Runtime could not write its optimized graph: {e.Message.Split('\n')[0]})";
        }
        finally
        {
            File.Delete(optimized);
        }
    }
}
