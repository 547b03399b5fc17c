using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

/// <summary>
/// <c>onnx.Constant</c>'s value: its <c>value</c> attribute (<c>dense</c> or <c>dense_resource</c>), or the tensor its
/// opset-12 forms make (<c>value_float</c>, <c>value_floats</c> as f32; <c>value_int</c>, <c>value_ints</c> as i64), so
/// every reader of constants (fold-constants, fold-bn, dedupe-constants, shape inference) sees those too. None for a
/// string or sparse value, or when the declared result type contradicts the one the form makes.
/// </summary>
public sealed class OnnxConstantValue : IConstantLike
{
    public static OnnxConstantValue Instance { get; } = new();

    private OnnxConstantValue() { }

    public Attr? ValueAttribute(Operation op)
    {
        var value = op.GetAttr("value");
        if (value is DenseElementsAttr or DenseResourceAttr) return value;
        if (value is not null || op.Results.Count != 1) return null;
        var made = Written(op);
        return made is not null && Fits(op.Result.Type, made.Type) ? made : null;
    }

    /// <summary>Makes the constant hold <paramref name="value"/> in <c>value</c>; the opset-12 forms it replaces go.</summary>
    public void SetValueAttribute(Operation op, Attr value)
    {
        foreach (var form in Forms) op.RemoveAttr(form);
        op.SetAttr("value", value);
    }

    private static readonly string[] Forms = ["value_float", "value_floats", "value_int", "value_ints"];

    /// <summary>The first <c>value_*</c> form the op has, as a dense attribute, or null.</summary>
    private static DenseElementsAttr? Written(Operation op)
    {
        foreach (var a in op.Attributes)
        {
            var made = (a.Name, a.Value) switch
            {
                ("value_float", FloatAttr f) => DenseElementsAttr.FromFloats(new TensorType(ElementType.F32, []), [(float)f.Value]),
                ("value_floats", ArrayAttr arr) when arr.Elements.All(e => e is FloatAttr) =>
                    Floats(arr.Elements.Select(e => (float)((FloatAttr)e).Value).ToArray()),
                ("value_floats", DenseArrayAttr { Type.IsFloat: true } d) => Floats(d.Floats.Select(x => (float)x).ToArray()),
                ("value_int", IntegerAttr i) => DenseElementsAttr.FromInt64s(new TensorType(ElementType.I64, []), [i.Value]),
                ("value_ints", ArrayAttr arr) when arr.Elements.All(e => e is IntegerAttr) =>
                    Int64s(arr.Elements.Select(e => ((IntegerAttr)e).Value).ToArray()),
                ("value_ints", DenseArrayAttr { Type.IsFloat: false } d) => Int64s(d.Ints.ToArray()),
                _ => null,
            };
            if (made is not null) return made;
        }
        return null;

        static DenseElementsAttr Floats(float[] v) => DenseElementsAttr.FromFloats(new TensorType(ElementType.F32, [v.Length]), v);
        static DenseElementsAttr Int64s(long[] v) => DenseElementsAttr.FromInt64s(new TensorType(ElementType.I64, [v.Length]), v);
    }

    /// <summary>The declared type is the value's, or a less precise form of it (unranked, <c>?</c> dims).</summary>
    private static bool Fits(MirType declared, TensorType value) =>
        declared is TensorType d && d.Element == value.Element
        && (d.Shape is null || d.Shape.Count == value.Shape!.Count && d.Shape.Zip(value.Shape).All(p => p.First < 0 || p.First == p.Second));
}
