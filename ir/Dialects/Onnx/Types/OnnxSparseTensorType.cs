using System.Text;

namespace Mopt.Dialects.Onnx;

/// <summary><c>!onnx.SparseTensor&lt;2x3xf32&gt;</c>: a sparse tensor of an ONNX data type.</summary>
public sealed record OnnxSparseTensorType(int DataType, IReadOnlyList<long>? Shape) : OnnxType
{
    public override string Spelling
    {
        get
        {
            var sb = new StringBuilder("!onnx.SparseTensor<");
            AppendShape(sb, Shape);
            return sb.Append(OnnxDataTypes.ElementName(DataType)).Append('>').ToString();
        }
    }
}
