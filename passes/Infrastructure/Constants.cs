using System.Runtime.InteropServices;
using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>The value of a constant tensor: its type and little-endian bytes (a splat already expanded).</summary>
public sealed record ConstantTensor(TensorType Type, ReadOnlyMemory<byte> Bytes)
{
    public long ElementCount => Type.ElementCount ?? 0;

    /// <summary>The elements as floats (f32 without copying the bytes' meaning; f16/bf16/f64 converted).</summary>
    public float[] ToFloats()
    {
        var elem = Type.Element;
        if (elem == ElementType.F32) return MemoryMarshal.Cast<byte, float>(Bytes.Span).ToArray();
        var result = new float[ElementCount];
        int size = elem.ByteSize;
        for (int i = 0; i < result.Length; i++)
        {
            var slot = Bytes.Span.Slice(i * size, size);
            result[i] = elem.IsFloat ? (float)ElementCodec.ReadFloat(slot, elem) : ElementCodec.ReadInteger(slot, elem);
        }
        return result;
    }

    /// <summary>The elements as 64-bit integers (integer and bool types; floats truncated toward zero).</summary>
    public long[] ToInt64s()
    {
        var elem = Type.Element;
        if (elem == ElementType.I64) return MemoryMarshal.Cast<byte, long>(Bytes.Span).ToArray();
        var result = new long[ElementCount];
        int size = elem.ByteSize;
        for (int i = 0; i < result.Length; i++)
        {
            var slot = Bytes.Span.Slice(i * size, size);
            result[i] = elem.IsFloat ? (long)ElementCodec.ReadFloat(slot, elem) : ElementCodec.ReadInteger(slot, elem);
        }
        return result;
    }
}

/// <summary>Reading and making <c>onnx.Constant</c> operations: what every folding pass needs.</summary>
public static class Constants
{
    public const string ConstantOp = "onnx.Constant";

    /// <summary>Constants up to this many bytes are written inline as <c>dense</c>; larger ones go to a blob.</summary>
    public const int InlineLimit = 64;

    /// <summary>The operation defining <paramref name="value"/> when it is an onnx.Constant holding a tensor.</summary>
    public static Operation? DefiningConstant(Value value) =>
        value is OpResult { Owner: { Name: ConstantOp } op } && op.GetAttr("value") is DenseElementsAttr or DenseResourceAttr ? op : null;

    public static bool IsConstant(Value value) => DefiningConstant(value) is not null;

    /// <summary>The constant's value, or null when it is not a constant with a static shape (or is too large).</summary>
    public static ConstantTensor? TryGet(Value value, MirModule module, long maxElements = long.MaxValue)
    {
        if (DefiningConstant(value) is not { } op) return null;
        return TryGet(op.GetAttr("value")!, module, maxElements);
    }

    public static ConstantTensor? TryGet(Attr attr, MirModule module, long maxElements = long.MaxValue) =>
        TryGet(attr, module.Resources, maxElements);

    /// <summary>The value a <c>dense</c> or <c>dense_resource</c> attribute holds, or null (no static shape, too large, no blob).</summary>
    public static ConstantTensor? TryGet(Attr? attr, ResourceTable resources, long maxElements = long.MaxValue)
    {
        switch (attr)
        {
            case DenseElementsAttr dense when dense.Type.ElementCount is long n && n <= maxElements:
                return new ConstantTensor(dense.Type, dense.IsSplat ? dense.ToFullBytes() : dense.Data);
            case DenseResourceAttr res when res.Type.ElementCount is long n && n <= maxElements
                                            && resources.Get(res.Key) is { } blob && blob.Data.Length == res.Type.ByteSize:
                return new ConstantTensor(res.Type, blob.Data);
            default:
                return null;
        }
    }

    /// <summary>
    /// A new onnx.Constant at the builder's insertion point: small ones inline (<c>dense</c>), large ones as a new
    /// resource blob named after <paramref name="nameHint"/>.
    /// </summary>
    public static Value Create(OpBuilder builder, MirModule module, TensorType type, byte[] bytes, Location location, string nameHint)
    {
        if (type.ByteSize != bytes.Length) throw new ArgumentException($"{bytes.Length} bytes do not make a {type}");
        Attr value = bytes.Length <= InlineLimit
            ? DenseElementsAttr.Create(type, bytes)
            : new DenseResourceAttr(type, module.Resources.Add(nameHint, ResourceBlob.Of(bytes)));
        return builder.Create(ConstantOp, [], [type], [new NamedAttr("value", value)], location).Result;
    }

    public static Value Create(OpBuilder builder, MirModule module, TensorType type, ReadOnlySpan<float> values, Location location, string nameHint) =>
        Create(builder, module, type, MemoryMarshal.AsBytes(values).ToArray(), location, nameHint);

    public static Value CreateInt64s(OpBuilder builder, MirModule module, ReadOnlySpan<long> values, Location location, string nameHint) =>
        Create(builder, module, new TensorType(ElementType.I64, [values.Length]), MemoryMarshal.AsBytes(values).ToArray(), location, nameHint);
}
