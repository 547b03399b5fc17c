using System.Text;
using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>
/// A dense tensor: <c>tensor&lt;2x?xf32&gt;</c> when the IR has the element type, <c>!onnx.Tensor&lt;2x?xstring&gt;</c>
/// otherwise. <paramref name="Shape"/>: null when unranked, a negative dimension when dynamic.
/// </summary>
public sealed record OnnxTensorType(int DataType, IReadOnlyList<long>? Shape) : OnnxType
{
    public override string Spelling => ToMir().Text;

    public override MirType ToMir()
    {
        if (OnnxDataTypes.ElementOf(DataType) is { } element) return new TensorType(element, Shape);
        var sb = new StringBuilder("!onnx.Tensor<");
        AppendShape(sb, Shape);
        return new OpaqueType(sb.Append(OnnxDataTypes.ElementName(DataType)).Append('>').ToString());
    }
}
