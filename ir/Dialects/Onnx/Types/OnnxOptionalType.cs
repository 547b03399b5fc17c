namespace Mopt.Dialects.Onnx;

/// <summary><c>!onnx.Opt&lt;T&gt;</c>: a value of a type, or none.</summary>
public sealed record OnnxOptionalType(OnnxType Element) : OnnxType
{
    public override string Spelling => $"!onnx.Opt<{Element.Spelling}>";
}
