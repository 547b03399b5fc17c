namespace Mopt.Dialects.Onnx;

/// <summary><c>!onnx.Seq&lt;T&gt;</c>: a sequence of values of one type.</summary>
public sealed record OnnxSequenceType(OnnxType Element) : OnnxType
{
    public override string Spelling => $"!onnx.Seq<{Element.Spelling}>";
}
