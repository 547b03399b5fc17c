using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>What the generated typed views (<c>OnnxViews.Generated.cs</c>: <c>ConvOp(op).B</c>) share: optional and variadic slots.</summary>
public static class OnnxViews
{
    /// <summary>Operand <paramref name="index"/>, or null when it is omitted: negative (none), past the end, or <c>onnx.NoValue</c> (ONNX's empty name).</summary>
    public static Value? Optional(Operation op, int index) =>
        index >= 0 && index < op.OperandCount && !IsNoValue(op.GetOperand(index)) ? op.GetOperand(index) : null;

    /// <summary>True for the stand-in of an omitted optional input.</summary>
    public static bool IsNoValue(Value value) =>
        value.Type == ElementType.None || value is OpResult { Owner.Name: OnnxDialect.NoValueOp };

    /// <summary>The operands from <paramref name="index"/> on (a variadic slot).</summary>
    public static IReadOnlyList<Value> OperandsFrom(Operation op, int index) => op.Operands.Skip(index).ToArray();

    /// <summary>The results from <paramref name="index"/> on (a variadic slot).</summary>
    public static IReadOnlyList<OpResult> ResultsFrom(Operation op, int index) => op.Results.Skip(index).ToArray();
}
