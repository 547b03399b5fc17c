namespace Mopt.Dialects.Onnx;

/// <summary><c>!onnx.Map&lt;K, T&gt;</c>: keys of an ONNX data type (<paramref name="KeyDataType"/>) to values of a type.</summary>
public sealed record OnnxMapType(int KeyDataType, OnnxType Value) : OnnxType
{
    public override string Spelling => $"!onnx.Map<{OnnxDataTypes.ElementName(KeyDataType)}, {Value.Spelling}>";
}
