using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>
/// What ONNX operators meant before they took their current form (opsets 1 to 12): the one place shape inference,
/// folding, canonicalization and the passes read version-dependent semantics from. Two kinds of answer:
/// <list type="bullet">
/// <item>a reading that holds at every opset (<see cref="CastTarget"/>, <see cref="ConcatAxis"/>,
/// <see cref="SecondOperandShape"/>, <see cref="UpsampleScales"/>), used in place of reading the attribute directly;</item>
/// <item><see cref="Differs"/>: why an operation at the module's opset means something other than the current form
/// (training-mode BatchNormalization and Dropout, broadcasting before opset 7, Tile-1, Softmax's 2-D flattening,
/// Upsample-1, Resize-10). Passes written for the current form leave such an operation alone (the rewrite driver and fold-constants
/// ask it through <see cref="IVersionedSemantics"/>), and the opset raiser converts or refuses it.</item>
/// </list>
/// Forms that only moved or renamed an attribute (Reshape 5, Pad-1's <c>paddings</c>, Slice 10, TopK 10, Pad 11,
/// Clip 11, Squeeze/Unsqueeze/Split/ReduceSum 13, the other Reduce* 18; Concat-1's default axis, read through
/// <see cref="ConcatAxis"/>; Cast-1's type name, through <see cref="CastTarget"/>) are not differences: a pass sees the form by
/// the operand count and reads both (ReshapePatterns, PadFacts, SliceFacts, the shape rules).
/// </summary>
public static class OnnxLegacy
{
    /// <summary>The binary operators that before opset 7 broadcast only with <c>broadcast = 1</c>, aligning B at <c>axis</c>.</summary>
    public static readonly IReadOnlySet<string> LegacyBroadcastOps = new HashSet<string>(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less",
    };

    /// <summary>
    /// The newest opset whose changes mopt's op definitions account for. Opsets 22 to 25 (ONNX 1.17 to 1.20) changed
    /// existing operators only by the element types they take (bfloat16, float4, float8e8m0, int2) and added operators
    /// (Attention, RMSNormalization, RotaryEmbedding, Swish, TensorScatter), which mopt keeps as they are; at a newer
    /// opset (26 is the newest ONNX Runtime 1.31 runs) every operator is left as it is by rewrites (<see cref="Differs"/>).
    /// </summary>
    public const long NewestKnownOpset = 25;

    /// <summary>
    /// True when no operator at <paramref name="opset"/> means anything but its current form (<see cref="Differs"/> is
    /// null for every op): every older form it names is before opset 13, and mopt knows the opsets up to <see cref="NewestKnownOpset"/>.
    /// </summary>
    public static bool AllCurrent(long opset) => opset is >= 13 and <= NewestKnownOpset;

    /// <summary>The interface form of <see cref="Differs"/>, with the module's stated opset (none stated: the current form).</summary>
    public static readonly IVersionedSemantics Semantics = new OnnxOpsetSemantics();

    /// <summary>
    /// Why <paramref name="op"/> at <paramref name="opset"/> means something other than its current form, or null when
    /// it means the same (a legacy attribute at its neutral value, broadcasting that numpy's rules give the same way).
    /// </summary>
    public static string? Differs(Operation op, long opset)
    {
        var type = op.OpType;
        if (opset > NewestKnownOpset) return $"mopt's op definitions go to opset {NewestKnownOpset}, and {type} may mean something else at opset {opset}";
        if (LegacyBroadcastOps.Contains(type)) return opset < 7 ? BroadcastDiffers(op) : null;
        return type switch
        {
            "PRelu" when opset < 7 && op.OperandCount == 2 && !OneElement(op.GetOperand(1)) && !SameRank(op.GetOperand(0), op.GetOperand(1)) =>
                "before opset 7 PRelu's slope is not broadcast the numpy way",
            "BatchNormalization" when opset < 7 && op.ReadInt("is_test") != 1 => "before opset 7 BatchNormalization without is_test = 1 is in training mode",
            "BatchNormalization" when opset < 9 && op.ReadInt("spatial") == 0 => "before opset 9 spatial = 0 keeps statistics per element, not per channel",
            "Dropout" when opset < 7 && op.ReadInt("is_test") != 1 => "before opset 7 a Dropout without is_test = 1 runs in training mode",
            "Tile" when opset < 6 => "Tile-1 takes a tile count and an axis, not one repeat per axis",
            "Softmax" or "LogSoftmax" or "Hardmax" when opset < 13 => FlattenDiffers(op),
            "Upsample" when opset < 7 => "Upsample-1 scales by height_scale and width_scale",
            "Resize" when opset < 11 => "Resize-10 maps coordinates asymmetrically and has no roi input",
            _ => null,
        };
    }

    /// <summary>
    /// Why a BatchNormalization is not in inference mode at <paramref name="opset"/>, or null when it is: before 7
    /// <c>is_test</c> defaults to 0 (training), before 9 <c>spatial = 0</c> keeps statistics per element, from 14
    /// <c>training_mode = 1</c> normalizes with the batch's statistics; the extra outputs exist only in training.
    /// </summary>
    public static string? BatchNormTraining(Operation op, long opset)
    {
        if (opset < 7 ? op.ReadInt("is_test") != 1 : op.ReadInt("is_test") == 0) return "training mode (before opset 7 BatchNormalization needs is_test = 1 for inference)";
        if (op.ReadInt("spatial") == 0) return "spatial = 0: statistics per element, not per channel";
        if (op.ReadInt("training_mode") == 1) return "training mode (training_mode = 1) normalizes with the batch's statistics";
        if (op.Results.Skip(1).Any(r => r.HasUses)) return "its training outputs (running or saved mean and variance) are used";
        return null;
    }

    /// <summary>
    /// Before opset 7 the shapes are equal unless <c>broadcast = 1</c>, which lines B up with A's dimensions from
    /// <c>axis</c> on (A's last ones without it) and allows no size-1 stretching: a rewrite reasoning with numpy's rules
    /// could misread it or make an operand that form does not allow, so any broadcast = 1 between unequal shapes is a difference.
    /// </summary>
    private static string? BroadcastDiffers(Operation op)
    {
        if (op.ReadInt("broadcast") != 1 || op.OperandCount != 2) return null;
        if (op.GetOperand(0).Type is TensorType { Shape: { } a } && op.GetOperand(1).Type is TensorType { Shape: { } b } && a.SequenceEqual(b)) return null;
        return op.GetAttr("axis") is null
            ? "before opset 7 broadcast = 1 aligns B with A's last dimensions without stretching size-1 dimensions"
            : $"before opset 7 broadcast = 1 aligns B at axis {op.ReadInt("axis")} of A";
    }

    /// <summary>
    /// B's shape as numpy broadcasting must see it for <paramref name="op"/> to mean what it means at
    /// <paramref name="opset"/>: B's own shape, or before opset 7 with <c>broadcast = 1</c> and an <c>axis</c>, B's shape
    /// followed by the ones that align it at that axis. Null when that needs a rank that is not known.
    /// </summary>
    public static long[]? SecondOperandShape(Operation op, long opset)
    {
        if (op.OperandCount < 2 || op.GetOperand(1).Type is not TensorType { Shape: { } b }) return null;
        if (opset >= 7 || !LegacyBroadcastOps.Contains(op.OpType) || op.ReadInt("broadcast") != 1 || op.ReadInt("axis") is not long axis)
            return b.ToArray();
        if (op.GetOperand(0).Type is not TensorType { Shape: { } a }) return null;
        long start = axis < 0 ? axis + a.Count : axis;
        long trailing = a.Count - start - b.Count;
        if (start < 0 || trailing < 0) return null;
        return b.Concat(Enumerable.Repeat(1L, (int)trailing)).ToArray();
    }

    /// <summary>Softmax, LogSoftmax and Hardmax before 13 flatten the input to 2-D at <c>axis</c> (default 1); the same as 13's one-axis form only when no dimension after the axis is larger than 1.</summary>
    private static string? FlattenDiffers(Operation op)
    {
        if (op.OperandCount < 1 || op.GetOperand(0).Type is not TensorType { Shape: { } shape })
            return $"before opset 13 {op.OpType} flattens the input to 2-D at its axis, and the rank is not known";
        long given = op.ReadInt("axis") ?? 1;
        long axis = given < 0 ? given + shape.Count : given;
        for (long d = axis + 1; d < shape.Count; d++)
            if (shape[(int)d] != 1) return $"before opset 13 {op.OpType} flattens dimensions {axis}..{shape.Count - 1} into one";
        return null;
    }

    /// <summary>Concat's axis: required from opset 4, 1 when absent before.</summary>
    public static long? ConcatAxis(Operation op, long? opset) => op.ReadInt("axis") ?? (opset is < 4 ? 1 : null);

    /// <summary>The ONNX data type Cast converts to: an integer code, or before opset 6 its name (<c>"FLOAT"</c>); null when absent or unknown.</summary>
    public static long? CastTarget(Operation op) => op.GetAttr("to") switch
    {
        IntegerAttr i => i.Value,
        StringAttr s => DataTypeNamed(s.Value),
        _ => null,
    };

    /// <summary>The <c>TensorProto.DataType</c> code Cast-1 names by its enum name.</summary>
    public static long? DataTypeNamed(string name) => name.ToUpperInvariant() switch
    {
        "FLOAT" => OnnxDataTypes.Float, "UINT8" => OnnxDataTypes.Uint8, "INT8" => OnnxDataTypes.Int8,
        "UINT16" => OnnxDataTypes.Uint16, "INT16" => OnnxDataTypes.Int16, "INT32" => OnnxDataTypes.Int32,
        "INT64" => OnnxDataTypes.Int64, "STRING" => OnnxDataTypes.String, "BOOL" => OnnxDataTypes.Bool,
        "FLOAT16" => OnnxDataTypes.Float16, "DOUBLE" => OnnxDataTypes.Double, "UINT32" => OnnxDataTypes.Uint32,
        "UINT64" => OnnxDataTypes.Uint64, "COMPLEX64" => OnnxDataTypes.Complex64, "COMPLEX128" => OnnxDataTypes.Complex128,
        "BFLOAT16" => OnnxDataTypes.Bfloat16,
        _ => null,
    };

    /// <summary>Upsample's scales when given as attributes: <c>scales</c> (7, 8), or Upsample-1's [1, 1, height_scale, width_scale] (4-D input).</summary>
    public static double[]? UpsampleScales(Operation op)
    {
        if (op.ReadFloats("scales") is { } scales) return scales;
        if (op.ReadFloat("height_scale") is double h && op.ReadFloat("width_scale") is double w) return [1, 1, h, w];
        return null;
    }

    private static bool OneElement(Value v) => v.Type is TensorType { Shape: { } s } && s.All(d => d == 1);

    private static bool SameRank(Value a, Value b) => a.Type is TensorType { Shape: { } sa } && b.Type is TensorType { Shape: { } sb } && sa.Count == sb.Count;
}
