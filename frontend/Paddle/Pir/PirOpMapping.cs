using Mopt.Ir;

namespace Mopt.Frontend.Paddle.Pir;

/// <summary>How a mutable attribute (a Scalar or IntArray argument that PIR passes as an operand) becomes its legacy attribute.</summary>
public enum PirAttrKind { Int32, Int64, Ints32, Float32 }

/// <summary>
/// A mutable attribute of a PIR op (op_compat.yaml's <c>scalar</c>/<c>int_array</c> entries): its operand comes after the
/// tensor operands; a constant one (from <c>full</c> or <c>full_int_array</c>) becomes legacy attribute
/// <paramref name="Attr"/>, any other the legacy input slot <paramref name="TensorSlot"/> (null when the legacy op has none).
/// </summary>
public sealed record PirMutableAttr(string Pir, string Attr, PirAttrKind Kind, string? TensorSlot = null);

/// <summary>
/// One PIR op (ops.yaml) and its legacy twin (op_compat.yaml): the legacy op type, the legacy input slot of each tensor
/// operand and output slot of each result in PIR's order (null: a result the legacy op drops, as XShape), the mutable
/// attributes, renamed attributes, and attributes the legacy op has that PIR's lacks (elementwise <c>axis = -1</c>).
/// </summary>
public sealed record PirOpMapping(string Legacy, string[] Inputs, string?[] Outputs)
{
    public PirMutableAttr[] Mutable { get; init; } = [];
    public (string Pir, string Legacy)[] Renames { get; init; } = [];
    public NamedAttr[] Extra { get; init; } = [];
    /// <summary>PIR int64 lists that the legacy op has as INTS (slice's axes): narrowed to i32 as the legacy importer gives them.</summary>
    public string[] AsInts32 { get; init; } = [];
}
