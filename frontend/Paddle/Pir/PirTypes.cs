using System.Text.Json;
using Mopt.Ir;

namespace Mopt.Frontend.Paddle.Pir;

/// <summary>
/// PIR types as the writer spells them (serialize_utils.h): <c>{"#": "0.t_f32"}</c> for an element type,
/// <c>{"#": "0.t_dtensor", "D": [dtype, dims, layout, lod, offset]}</c> for a dense tensor (-1 an unknown size),
/// <c>{"#": "0.t_vec", "D": [types]}</c> for a vector of them; and the <c>a_dtype</c> names (<c>"float32"</c>).
/// </summary>
public static class PirTypes
{
    public const string DenseTensor = "0.t_dtensor";
    public const string Vector = "0.t_vec";

    private static readonly (string Pir, string DType, ElementType Element)[] Elements =
    [
        ("0.t_bool", "bool", ElementType.I1), ("0.t_f16", "float16", ElementType.F16), ("0.t_bf16", "bfloat16", ElementType.BF16),
        ("0.t_f32", "float32", ElementType.F32), ("0.t_f64", "float64", ElementType.F64), ("0.t_i8", "int8", ElementType.I8),
        ("0.t_ui8", "uint8", ElementType.UI8), ("0.t_i16", "int16", ElementType.I16), ("0.t_i32", "int32", ElementType.I32),
        ("0.t_i64", "int64", ElementType.I64), ("0.t_index", "index", ElementType.I64),
    ];

    /// <summary>The element type of a PIR element type name (<c>0.t_f32</c>), or null for one mopt lacks (complex, fp8).</summary>
    public static ElementType? Element(string pirName)
    {
        foreach (var e in Elements)
            if (e.Pir == pirName) return e.Element;
        return null;
    }

    /// <summary>The element type of an <c>a_dtype</c> name (<c>float32</c>), or null.</summary>
    public static ElementType? ElementOfDType(string dtype)
    {
        foreach (var e in Elements)
            if (e.DType == dtype) return e.Element;
        return null;
    }

    /// <summary>A value's type: a tensor type, or (for a <c>t_vec</c>) null with its element types in <paramref name="vector"/>.</summary>
    public static TensorType? Tensor(JsonElement type, string what, out List<TensorType>? vector)
    {
        vector = null;
        var name = PirSchema.Id(type, what);
        switch (name)
        {
            case DenseTensor:
                return Dense(type, what);
            case Vector:
                vector = [];
                foreach (var t in PirSchema.Array(type, "D", what).EnumerateArray())
                    vector.Add(Tensor(t, what, out var inner) ?? throw new MirException($"{what}: a vector of vectors is not read"));
                return null;
            case "1.t_selected_rows" or "1.t_dtensor_array" or "1.t_sparse_coo" or "1.t_sparse_csr" or "4.t_dist_dtensor":
                throw new MirException($"{what}: values of type {name} are not read (mopt reads dense tensors)");
            default:
                if (Element(name) is { } scalar) return new TensorType(scalar, []);
                throw new MirException($"{what}: unknown PIR type '{name}'");
        }
    }

    /// <summary>A value-free type (<c>{"#":"0.t_f32"}</c>) as an element type.</summary>
    public static ElementType ElementOf(JsonElement type, string what)
    {
        var name = PirSchema.Id(type, what);
        return Element(name) ?? throw new MirException($"{what}: element type '{name}' is not one mopt reads");
    }

    private static TensorType Dense(JsonElement type, string what)
    {
        var data = PirSchema.Array(type, "D", what);
        if (data.GetArrayLength() < 2) throw new MirException($"{what}: a t_dtensor needs [dtype, dims, ...], it has {data.GetArrayLength()} entries");
        var element = ElementOf(data[0], what);
        if (data[1].ValueKind != JsonValueKind.Array) throw new MirException($"{what}: a t_dtensor's dims are {data[1].ValueKind}, not a list");
        var dims = new long[data[1].GetArrayLength()];
        int i = 0;
        foreach (var d in data[1].EnumerateArray())
        {
            long size = PirSchema.Int(d, what, "a dimension");
            if (size < -1) throw new MirException($"{what}: dimension {i} is {size}");
            dims[i++] = size < 0 ? TensorType.Dynamic : size;
        }
        return new TensorType(element, dims);
    }
}
