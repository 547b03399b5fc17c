using System.Runtime.InteropServices;
using Mopt.Dialects.Mo;
using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>
/// The IR pieces both quantization rewrites make: scale and zero-point constants, QuantizeLinear / DequantizeLinear,
/// where a value's definition ends (to insert after it), and the ONNX tensor name a value is written with.
/// </summary>
internal static class QuantGraph
{
    public const string QuantizeOp = QuantizeLinearOp.OpName;
    public const string DequantizeOp = DequantizeLinearOp.OpName;

    /// <summary>The name the ONNX writer gives <paramref name="value"/>: an input's <c>mo.name</c>, an op's <c>mo.outputs</c>, else as the writer makes it.</summary>
    public static string TensorName(Value value) => value switch
    {
        BlockArgument { Owner.Parent.Parent: { Name: FuncOp.OpName } f } a => new FuncOp(f).ArgName(a.Index) ?? $"input_{a.Index}",
        OpResult { Owner: { Name: Constants.ConstantOp } c } => c.Location.FirstName ?? "const",
        OpResult r when r.Owner.GetAttr(MoDialect.OutputsAttr) is ArrayAttr names && r.Index < names.Elements.Count
                        && names.Elements[r.Index] is StringAttr { Value.Length: > 0 } s => s.Value,
        OpResult r => $"{OpName(r.Owner)}_output" + (r.Owner.Results.Count > 1 ? $"_{r.Index}" : ""),
        _ => "tensor",
    };

    /// <summary>The op's node name: its location's first name, else its op type.</summary>
    public static string OpName(Operation op) => op.Location.FirstName ?? op.OpType;

    /// <summary>A builder placed right after <paramref name="value"/> is defined (a function argument: at the top of the body).</summary>
    public static OpBuilder AfterDefinition(Value value)
    {
        if (value is OpResult r) return OpBuilder.After(r.Owner);
        var block = ((BlockArgument)value).Owner;
        var b = new OpBuilder(block);
        if (block.Operations.Count > 0) b.SetInsertionPointBefore(block.Operations[0]);
        return b;
    }

    /// <summary>A float constant (float32 unless <paramref name="element"/> says otherwise) holding <paramref name="values"/> with <paramref name="shape"/> (a scalar when empty).</summary>
    public static Value Floats(OpBuilder b, MirModule module, float[] values, long[] shape, string name, ElementType? element = null)
    {
        var type = element ?? ElementType.F32;
        return Constants.Create(b, module, new TensorType(type, shape), ElementCodec.EncodeFloats(values, type), Location.Named(name), name);
    }

    /// <summary>A zero-point constant (int8, uint8, or int4/uint4 packed) holding <paramref name="values"/> with <paramref name="shape"/>.</summary>
    public static Value ZeroPoints(OpBuilder b, MirModule module, QuantType type, int[] values, long[] shape, string name)
    {
        var bytes = QuantMath.Store(values.Select(v => unchecked((byte)v)).ToArray(), type);
        return Constants.Create(b, module, new TensorType(QuantMath.ElementOf(type), shape), bytes, Location.Named(name), name);
    }

    /// <summary>An int32 constant (a quantized bias).</summary>
    public static Value Int32s(OpBuilder b, MirModule module, int[] values, long[] shape, string name) =>
        Constants.Create(b, module, new TensorType(ElementType.I32, shape), MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), Location.Named(name), name);

    /// <summary>
    /// The scale and zero point of <paramref name="p"/> as constants: scalars, or 1-D of one entry per slice (per channel).
    /// </summary>
    public static (Value Scale, Value ZeroPoint) Params(OpBuilder b, MirModule module, IReadOnlyList<QuantParams> p, QuantType type, string baseName,
        ElementType? scaleElement = null) =>
        Params(b, module, p, type, baseName, p.Count == 1 ? [] : [p.Count], scaleElement);

    /// <summary>The scale and zero point of <paramref name="p"/> as constants of <paramref name="shape"/> (blocked: the weight's shape with the axis in blocks).</summary>
    public static (Value Scale, Value ZeroPoint) Params(OpBuilder b, MirModule module, IReadOnlyList<QuantParams> p, QuantType type, string baseName,
        long[] shape, ElementType? scaleElement = null)
    {
        var scale = Floats(b, module, p.Select(x => x.Scale).ToArray(), shape, baseName + "_scale", scaleElement);
        var zero = ZeroPoints(b, module, type, p.Select(x => x.ZeroPoint).ToArray(), shape, baseName + "_zero_point");
        return (scale, zero);
    }

    /// <summary>
    /// DequantizeLinear of <paramref name="q"/> to the scale's float type (per-axis when <paramref name="axis"/> is given);
    /// no zero point means 0 (ONNX's default), which saves a constant per int32 bias.
    /// </summary>
    public static Value Dequantize(OpBuilder b, Value q, Value scale, Value? zeroPoint, int? axis, string name, long blockSize = 0)
    {
        var attrs = new List<NamedAttr>();
        if (axis is int a) attrs.Add(new NamedAttr("axis", IntegerAttr.I64(a)));
        if (blockSize > 0) attrs.Add(new NamedAttr("block_size", IntegerAttr.I64(blockSize))); // opset 21's blocked form
        Value[] operands = zeroPoint is null ? [q, scale] : [q, scale, zeroPoint];
        var type = ((TensorType)q.Type).WithElement(((TensorType)scale.Type).Element);
        return b.Create(DequantizeOp, operands, [type], attrs, Location.Named(name)).Result;
    }

    /// <summary>QuantizeLinear of float <paramref name="x"/> with a per-tensor scale and zero point.</summary>
    public static Value QuantizeValue(OpBuilder b, Value x, Value scale, Value zeroPoint, QuantType type, string name)
    {
        var shape = ((TensorType)x.Type).Shape;
        return b.Create(QuantizeOp, [x, scale, zeroPoint], [new TensorType(QuantMath.ElementOf(type), shape)], null, Location.Named(name)).Result;
    }

    /// <summary>Whether <paramref name="value"/> is a ranked or unranked float32 tensor (what QuantizeLinear reads).</summary>
    public static bool IsF32Tensor(Value value) => value.Type is TensorType { Element: var e } && e == ElementType.F32;

    /// <summary>Erases <paramref name="constant"/> when nothing reads it any more, and its blob when nothing else points at it.</summary>
    public static void EraseIfUnused(Operation? constant, MirModule module, HashSet<string> freedBlobs)
    {
        if (constant is null || constant.Parent is null || !constant.IsUnused) return;
        if (Constants.ValueAttribute(constant) is DenseResourceAttr res) freedBlobs.Add(res.Key);
        constant.Erase();
    }

    /// <summary>The shape <c>[1, n, 1, ...]</c> of rank <paramref name="rank"/>: a per-channel vector broadcast over NC... outputs.</summary>
    public static long[] ChannelShape(long n, int rank)
    {
        var shape = Enumerable.Repeat(1L, rank).ToArray();
        if (rank > 1) shape[1] = n; else if (rank == 1) shape[0] = n;
        return shape;
    }

    /// <summary>The report's name of a quantized type: int8, uint8, int4 or uint4.</summary>
    public static string TypeName(QuantType type) => type switch
    {
        QuantType.Int8 => "int8", QuantType.UInt8 => "uint8", QuantType.Int4 => "int4", _ => "uint4",
    };
}
