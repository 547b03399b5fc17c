using Mopt.Onnx.Proto;

namespace Mopt.Bench.Prune;

/// <summary>
/// The parameters of an ONNX file counted here, to check the prune report's figure: the elements of every float
/// initializer and of every float <c>Constant</c> node's tensor (what mopt's report counts: elements of float constants).
/// </summary>
public static class ParameterCount
{
    public static long Of(string path)
    {
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        long n = graph.Initializer.Where(IsFloat).Sum(Elements);
        foreach (var node in graph.Node.Where(x => x.OpType == "Constant"))
            n += node.Attribute.Where(a => a.Name == "value" && IsFloat(a.T)).Sum(a => Elements(a.T));
        return n;
    }

    private static bool IsFloat(TensorProto t) => (TensorProto.Types.DataType)t.DataType is TensorProto.Types.DataType.Float
        or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16;

    private static long Elements(TensorProto t) => t.Dims.Aggregate(1L, (a, b) => a * b);
}
