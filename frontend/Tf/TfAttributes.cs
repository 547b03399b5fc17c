using Google.Protobuf;
using Mopt.Dialects.Tf;
using Mopt.Ir;
using Mopt.Tf.Proto;

namespace Mopt.Frontend.Tf;

/// <summary>
/// A node's <c>AttrValue</c>s as MLIR attributes (the table in docs/formats/tensorflow.md): s → string, i → i64,
/// f → f32, b → bool, type → type, shape → <c>array&lt;i64: ...&gt;</c> (-1 unknown) or <c>unit</c> (unknown rank),
/// tensor → dense, list → array, func → <c>{name, attr}</c>, placeholder → <c>{placeholder}</c>, unset → <c>{}</c>.
/// </summary>
internal sealed class TfAttributes(MirModule module)
{
    /// <summary>Above this many bytes a tensor goes to a resource blob instead of a dense literal.</summary>
    public const int InlineTensorLimit = 1024;

    /// <summary><paramref name="key"/>: the resource key a large tensor gets; <paramref name="what"/>: the node and attribute, for messages.</summary>
    public Attr Convert(AttrValue v, string key, string what) => v.ValueCase switch
    {
        AttrValue.ValueOneofCase.S => new StringAttr(StringBytes.Decode(v.S.Span)),
        AttrValue.ValueOneofCase.I => IntegerAttr.I64(v.I),
        AttrValue.ValueOneofCase.F => FloatAttr.F32(v.F),
        AttrValue.ValueOneofCase.B => v.B ? BoolAttr.True : BoolAttr.False,
        AttrValue.ValueOneofCase.Type => new TypeAttr(TfDataTypes.TypeOf((int)v.Type)),
        AttrValue.ValueOneofCase.Shape => Shape(v.Shape),
        AttrValue.ValueOneofCase.Tensor => Tensor(v.Tensor, key, what, InlineTensorLimit),
        AttrValue.ValueOneofCase.List => List(v.List, key, what),
        AttrValue.ValueOneofCase.Func => Func(v.Func, key, what),
        AttrValue.ValueOneofCase.Placeholder => DictionaryAttr.From([new NamedAttr("placeholder", new StringAttr(v.Placeholder))]),
        _ => DictionaryAttr.Empty,
    };

    private ArrayAttr List(AttrValue.Types.ListValue l, string key, string what)
    {
        if (l.S.Count > 0) return ArrayAttr.Of(l.S.Select(s => (Attr)new StringAttr(StringBytes.Decode(s.Span))));
        if (l.I.Count > 0) return ArrayAttr.OfInts(l.I);
        if (l.F.Count > 0) return ArrayAttr.OfFloats(l.F);
        if (l.B.Count > 0) return ArrayAttr.Of(l.B.Select(b => (Attr)(b ? BoolAttr.True : BoolAttr.False)));
        if (l.Type.Count > 0) return ArrayAttr.Of(l.Type.Select(t => (Attr)new TypeAttr(TfDataTypes.TypeOf((int)t))));
        if (l.Shape.Count > 0) return ArrayAttr.Of(l.Shape.Select(Shape));
        if (l.Tensor.Count > 0) return ArrayAttr.Of(l.Tensor.Select((t, i) => Tensor(t, $"{key}_{i}", what, InlineTensorLimit)));
        return ArrayAttr.Of(l.Func.Select(f => (Attr)Func(f, key, what)));
    }

    private DictionaryAttr Func(NameAttrList f, string key, string what) => DictionaryAttr.From(
    [
        new NamedAttr("name", new StringAttr(f.Name)),
        new NamedAttr("attr", DictionaryAttr.From(f.Attr.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new NamedAttr(kv.Key, Convert(kv.Value, $"{key}_{kv.Key}", what))))),
    ]);

    public static Attr Shape(TensorShapeProto s) =>
        s.UnknownRank ? UnitAttr.Instance : DenseArrayAttr.OfInts(ElementType.I64, s.Dim.Select(d => d.Size < 0 ? -1 : d.Size));

    /// <summary>The IR type of a shape and dtype: <c>tensor&lt;?x3xf32&gt;</c>, or <c>!tf.Tensor&lt;...&gt;</c> for a dtype the IR lacks.</summary>
    public static MirType TensorTypeOf(int dtype, TensorShapeProto? shape)
    {
        long[]? dims = shape is null || shape.UnknownRank ? null : shape.Dim.Select(d => d.Size < 0 ? -1L : d.Size).ToArray();
        if (TfDataTypes.ElementOf(dtype) is { } e) return new TensorType(e, dims);
        var text = dims is null ? "*x" : string.Concat(dims.Select(d => (d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)) + "x"));
        return new OpaqueType($"!tf.Tensor<{text}{TfDataTypes.NameOf(dtype)}>");
    }

    /// <summary>
    /// A TensorProto as <c>dense</c> (a single typed value filling a larger shape is a splat), or a resource blob above
    /// <paramref name="inlineLimit"/> bytes; a dtype the IR has no element type for stays serialized in
    /// <c>{tensor_proto = dense&lt;"0x..."&gt; : tensor&lt;Nxui8&gt;}</c>.
    /// </summary>
    public Attr Tensor(TensorProto t, string key, string what, int inlineLimit)
    {
        if (TfDataTypes.ElementOf((int)t.Dtype) is not { } element || t.TensorShape is { UnknownRank: true } || t.TensorShape?.Dim.Any(d => d.Size < 0) == true)
            return Opaque(t);
        var type = new TensorType(element, t.TensorShape?.Dim.Select(d => d.Size).ToArray() ?? []);
        long count = type.ElementCount ?? 0;
        int size = element.ByteSize;
        if (t.TensorContent.Length > 0)
        {
            if (t.TensorContent.Length != count * size)
                throw new MirException($"{what}: tensor_content has {t.TensorContent.Length} bytes, its shape {type.Text} needs {count * size}");
            return Dense(type, t.TensorContent.Memory, key, inlineLimit);
        }
        var values = TypedValues(t, element, out int n);
        if (values is null) return Opaque(t);
        // No values: zeros (TensorFlow's default), a splat when that fills more than one element.
        if (n == 0) return count <= 1 ? new DenseElementsAttr(type, new byte[count * size], false) : new DenseElementsAttr(type, new byte[size], true);
        if (n == 1 && count != 1) return new DenseElementsAttr(type, values, true);
        if (n > count)
            throw new MirException($"{what}: the tensor has {n} values, its shape {type.Text} has {count} elements");
        if (n < count)
        {
            // TensorFlow fills the rest of the shape with the last value given.
            var filled = new byte[count * size];
            values.CopyTo(filled, 0);
            for (long i = n; i < count; i++) Array.Copy(values, (n - 1) * size, filled, i * size, size);
            values = filled;
        }
        return Dense(type, values, key, inlineLimit);
    }

    private Attr Dense(TensorType type, ReadOnlyMemory<byte> bytes, string key, int inlineLimit)
    {
        if (bytes.Length <= inlineLimit) return new DenseElementsAttr(type, bytes.ToArray(), false);
        uint align = (uint)Math.Max(4, type.Element.ByteSize);
        return new DenseResourceAttr(type, module.Resources.Add(key, new ResourceBlob(align, bytes)));
    }

    private static DictionaryAttr Opaque(TensorProto t) =>
        DictionaryAttr.From([new NamedAttr("tensor_proto", new DenseElementsAttr(new TensorType(ElementType.UI8, [t.CalculateSize()]), t.ToByteArray(), false))]);

    /// <summary>The typed value field of the tensor's dtype as little-endian bytes (null: a field mopt does not read).</summary>
    private static byte[]? TypedValues(TensorProto t, ElementType e, out int n)
    {
        byte[] Of<T>(IReadOnlyList<T> v, Func<T, byte[]> bytes) => v.SelectMany(bytes).ToArray();
        byte[]? result = t.Dtype switch
        {
            DataType.DtFloat => Of(t.FloatVal, BitConverter.GetBytes),
            DataType.DtDouble => Of(t.DoubleVal, BitConverter.GetBytes),
            DataType.DtInt32 => Of(t.IntVal, BitConverter.GetBytes),
            DataType.DtInt16 or DataType.DtUint16 => Of(t.IntVal, v => BitConverter.GetBytes((short)v)),
            DataType.DtInt8 or DataType.DtUint8 => Of(t.IntVal, v => new[] { (byte)v }),
            DataType.DtInt64 => Of(t.Int64Val, BitConverter.GetBytes),
            DataType.DtBool => Of(t.BoolVal, v => new[] { (byte)(v ? 1 : 0) }),
            DataType.DtHalf or DataType.DtBfloat16 => Of(t.HalfVal, v => BitConverter.GetBytes((ushort)v)),
            DataType.DtUint32 => Of(t.Uint32Val, BitConverter.GetBytes),
            DataType.DtUint64 => Of(t.Uint64Val, BitConverter.GetBytes),
            _ => null,
        };
        n = result is null ? 0 : result.Length / e.ByteSize;
        return result;
    }
}
