using System.Runtime.InteropServices;
using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>Reading and making <c>onnx.Constant</c> operations: what every folding pass needs.</summary>
public static class Constants
{
    public const string ConstantOp = OnnxDialect.ConstantOp;

    /// <summary>Constants up to this many bytes are written inline as <c>dense</c>; larger ones go to a blob.</summary>
    public const int InlineLimit = 64;

    /// <summary>
    /// The operation defining <paramref name="value"/> when it is constant-like (its definition says so: onnx.Constant,
    /// and the constants of other dialects) and holds a tensor.
    /// </summary>
    public static Operation? DefiningConstant(Value value, DialectRegistry? dialects = null) =>
        value is OpResult { Owner: var op } && ValueAttribute(op, dialects) is not null ? op : null;

    /// <summary>The <c>dense</c> or <c>dense_resource</c> attribute a constant-like operation holds, or null.</summary>
    public static Attr? ValueAttribute(Operation op, DialectRegistry? dialects = null) =>
        (dialects ?? StandardDialects.Registry).Interface<IConstantLike>(op)?.ValueAttribute(op);

    public static bool IsConstant(Value value, DialectRegistry? dialects = null) => DefiningConstant(value, dialects) is not null;

    /// <summary>The constant's value, or null when it is not a constant with a static shape (or is too large).</summary>
    public static ConstantTensor? TryGet(Value value, MirModule module, long maxElements = long.MaxValue)
    {
        if (DefiningConstant(value) is not { } op) return null;
        return TryGet(ValueAttribute(op), module, maxElements);
    }

    public static ConstantTensor? TryGet(Attr? attr, MirModule module, long maxElements = long.MaxValue) =>
        TryGet(attr, module.Resources, maxElements);

    /// <summary>The value a <c>dense</c> or <c>dense_resource</c> attribute holds, or null (no static shape, too large, no blob).</summary>
    public static ConstantTensor? TryGet(Attr? attr, ResourceTable resources, long maxElements = long.MaxValue) =>
        ConstantTensor.TryRead(attr, resources, maxElements);

    /// <summary>
    /// A new onnx.Constant at the builder's insertion point: small ones inline (<c>dense</c>), large ones as a new
    /// resource blob named after <paramref name="nameHint"/>.
    /// </summary>
    public static Value Create(OpBuilder builder, MirModule module, TensorType type, ReadOnlyMemory<byte> bytes, Location location, string nameHint)
    {
        if (type.ByteSize != bytes.Length) throw new ArgumentException($"{bytes.Length} bytes do not make a {type}");
        Attr value = bytes.Length <= InlineLimit
            ? DenseElementsAttr.Create(type, WholeArray(bytes) ?? bytes.ToArray())
            : new DenseResourceAttr(type, module.Resources.Add(nameHint, ResourceBlob.Of(bytes)));
        return builder.Create(ConstantOp, [], [type], [new NamedAttr("value", value)], location).Result;
    }

    /// <summary>
    /// Uninitialized memory for the <paramref name="length"/> bytes of a constant a pass computes, to be passed to
    /// <see cref="Create(OpBuilder, MirModule, TensorType, ReadOnlyMemory{byte}, Location, string)"/>: an array when it
    /// will be written inline, else the module's blob memory (<see cref="ResourceTable.Allocate"/>).
    /// </summary>
    public static Memory<byte> Allocate(MirModule module, int length) =>
        length <= InlineLimit ? GC.AllocateUninitializedArray<byte>(length) : module.Resources.Allocate(length);

    /// <summary>
    /// Double values as the bytes of a new float constant of <paramref name="element"/> (each rounded once, as
    /// <see cref="ElementCodec.EncodeFloats(ReadOnlySpan{double}, ElementType)"/> does), in <see cref="Allocate"/>'s memory.
    /// </summary>
    public static Memory<byte> EncodeFloats(MirModule module, ReadOnlySpan<double> values, ElementType element)
    {
        var bytes = Allocate(module, values.Length * element.ByteSize);
        ElementCodec.EncodeFloats(values, element, bytes.Span);
        return bytes;
    }

    /// <summary>The array <paramref name="bytes"/> is, when it is one whole (a small constant is then kept, not copied).</summary>
    private static byte[]? WholeArray(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : null;

    public static Value Create(OpBuilder builder, MirModule module, TensorType type, ReadOnlySpan<float> values, Location location, string nameHint) =>
        Create(builder, module, type, MemoryMarshal.AsBytes(values).ToArray(), location, nameHint);

    public static Value CreateInt64s(OpBuilder builder, MirModule module, ReadOnlySpan<long> values, Location location, string nameHint) =>
        Create(builder, module, new TensorType(ElementType.I64, [values.Length]), MemoryMarshal.AsBytes(values).ToArray(), location, nameHint);
}
