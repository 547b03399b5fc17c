using System.Globalization;
using System.Text.Json;
using Mopt.Dialects.Paddle;
using Mopt.Ir;

namespace Mopt.Frontend.Paddle.Pir;

/// <summary>
/// PIR attributes (<c>{"#": "0.a_i32", "D": 3}</c>, serialize_utils.h) in the IR forms the ProgramDesc importer gives the
/// legacy AttrTypes, so that a PIR op and its legacy twin import alike: a_i32 <c>: i32</c> (INT), a_i64 <c>: i64</c>
/// (LONG), a_f32 <c>: f32</c>, a_f64 <c>: f64</c>, a_bool, a_str, a_array of one kind a dense array (INTS, LONGS,
/// FLOATS, ...) or a list, a_intarray <c>array&lt;i64&gt;</c>, a_dtype the legacy VarType code <c>: i32</c> (as
/// fill_constant's dtype), a_scalar <c>{scalar = ...}</c> (the legacy SCALAR form), a_place <c>{place = [...]}</c>, a_type
/// a type, a_c64/a_c128 <c>[re, im]</c>. A float written as <c>"VD": "NaN" | "INF" | "-INF"</c> is that value.
/// </summary>
public static class PirAttributes
{
    /// <summary>C++'s quiet_NaN (0x7FF8...), what Paddle wrote; .NET's double.NaN has the sign bit set.</summary>
    private static readonly double QuietNaN = BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0000);

    public static Attr Convert(JsonElement attr, string what)
    {
        var kind = PirSchema.Id(attr, what);
        switch (kind)
        {
            case "0.a_bool": return Data(attr, what).ValueKind switch
            {
                JsonValueKind.True => BoolAttr.True,
                JsonValueKind.False => BoolAttr.False,
                _ => throw Bad(attr, kind, what),
            };
            case "0.a_i32": return new IntegerAttr(checked((int)Int(attr, what)), ElementType.I32);
            case "0.a_i64" or "0.a_index": return IntegerAttr.I64(Int(attr, what));
            case "0.a_f32": return new FloatAttr((float)Float(attr, what), ElementType.F32);
            case "0.a_f64": return new FloatAttr(Float(attr, what), ElementType.F64);
            case "0.a_str" or "0.a_tensor_name" or "1.a_layout": return new StringAttr(PirSchema.String(Data(attr, what), what, kind));
            case "0.a_array": return Array(attr, what);
            case "0.a_type":
                return new TypeAttr((MirType?)PirTypes.Tensor(Data(attr, what), what, out var vector)
                    ?? throw new MirException($"{what}: an a_type holding a vector is not read"));
            case "0.a_c64" or "0.a_c128":
            {
                var parts = Data(attr, what);
                if (parts.ValueKind != JsonValueKind.Array || parts.GetArrayLength() != 2) throw Bad(attr, kind, what);
                return DenseArrayAttr.OfFloats(kind == "0.a_c64" ? ElementType.F32 : ElementType.F64, [Number(parts[0], what), Number(parts[1], what)]);
            }
            case "1.a_intarray":
            {
                var list = Data(attr, what);
                if (list.ValueKind != JsonValueKind.Array) throw Bad(attr, kind, what);
                return DenseArrayAttr.OfInts(ElementType.I64, list.EnumerateArray().Select(v => PirSchema.Int(v, what, "an a_intarray entry")).ToList());
            }
            case "1.a_dtype": return new IntegerAttr(DTypeCode(PirSchema.String(Data(attr, what), what, kind), what), ElementType.I32);
            case "1.a_place":
            {
                var place = Data(attr, what);
                if (place.ValueKind != JsonValueKind.Array || place.GetArrayLength() != 3) throw Bad(attr, kind, what);
                return Tagged("place", ArrayAttr.Of([
                    new IntegerAttr(PirSchema.Int(place[0], what, "a place's allocation type"), ElementType.I8),
                    new IntegerAttr(PirSchema.Int(place[1], what, "a place's device id"), ElementType.I32),
                    new StringAttr(PirSchema.String(place[2], what, "a place's device type"))]));
            }
            case "1.a_scalar": return Tagged("scalar", Scalar(attr, what));
            default: throw new MirException($"{what}: attribute kind '{kind}' is not one PIR's writer uses (serialize_utils.h)");
        }
    }

    /// <summary>The legacy VarType code of an a_dtype name (<c>float32</c> → 5), as the legacy ops' dtype attributes hold it.</summary>
    public static int DTypeCode(string dtype, string what)
    {
        var element = PirTypes.ElementOfDType(dtype) ?? throw new MirException($"{what}: dtype '{dtype}' is not one mopt reads");
        return PaddleDataTypes.Code(element) ?? throw new MirException($"{what}: dtype '{dtype}' has no Paddle element code");
    }

    /// <summary>The kinds with no IR form of their own: a one-entry dictionary naming the kind, as the legacy importer tags SCALAR.</summary>
    private static DictionaryAttr Tagged(string kind, Attr value) => DictionaryAttr.From([new NamedAttr(kind, value)]);

    private static JsonElement Data(JsonElement attr, string what) => PirSchema.Property(attr, PirSchema.Data, what);

    private static long Int(JsonElement attr, string what) => PirSchema.Int(Data(attr, what), what, PirSchema.Id(attr, what));

    /// <summary>A float attribute: its D, or its VD spelling of NaN and the infinities.</summary>
    private static double Float(JsonElement attr, string what)
    {
        if (attr.TryGetProperty(PirSchema.VoidData, out var special)) return Special(PirSchema.String(special, what, "VD"), what);
        return Number(Data(attr, what), what);
    }

    private static double Number(JsonElement e, string what) =>
        e.ValueKind == JsonValueKind.Number ? e.GetDouble() : throw new MirException($"{what}: {PirSchema.Describe(e)} is not a number");

    /// <summary>A list of one scalar kind as a dense array (the legacy INTS, LONGS, FLOATS, FLOAT64S, BOOLEANS), of strings as STRINGS, else a list.</summary>
    private static Attr Array(JsonElement attr, string what)
    {
        var items = Data(attr, what);
        if (items.ValueKind != JsonValueKind.Array) throw Bad(attr, "0.a_array", what);
        var converted = items.EnumerateArray().Select(i => Convert(i, what)).ToList();
        if (converted.Count == 0) return DenseArrayAttr.OfInts(ElementType.I32, []);
        if (converted.All(a => a is IntegerAttr i && ReferenceEquals(i.Type, ((IntegerAttr)converted[0]).Type)))
            return DenseArrayAttr.OfInts(((IntegerAttr)converted[0]).Type, converted.Select(a => ((IntegerAttr)a).Value));
        if (converted.All(a => a is FloatAttr f && ReferenceEquals(f.Type, ((FloatAttr)converted[0]).Type)))
            return DenseArrayAttr.OfFloats(((FloatAttr)converted[0]).Type, converted.Select(a => ((FloatAttr)a).Value));
        if (converted.All(a => a is BoolAttr)) return DenseArrayAttr.OfInts(ElementType.I1, converted.Select(a => ((BoolAttr)a).Value ? 1L : 0L));
        if (converted.All(a => a is StringAttr)) return ArrayAttr.OfStrings(converted.Select(a => ((StringAttr)a).Value));
        return ArrayAttr.Of(converted);
    }

    /// <summary>An a_scalar: <c>[dtype, value]</c> or <c>[dtype, re, im]</c>, as the legacy Scalar (bool, i64, f64, [re, im]).</summary>
    private static Attr Scalar(JsonElement attr, string what)
    {
        var d = Data(attr, what);
        if (d.ValueKind != JsonValueKind.Array || d.GetArrayLength() < 2) throw Bad(attr, "1.a_scalar", what);
        var dtype = PirSchema.String(d[0], what, "an a_scalar's dtype");
        if (d.GetArrayLength() == 3) return DenseArrayAttr.OfFloats(ElementType.F64, [Number(d[1], what), Number(d[2], what)]);
        var v = d[1];
        return dtype switch
        {
            "bool" => v.ValueKind == JsonValueKind.True ? BoolAttr.True : v.ValueKind == JsonValueKind.False ? BoolAttr.False : throw Bad(attr, "1.a_scalar", what),
            "int8" or "uint8" or "int16" or "int32" or "int64" or "uint16" or "uint32" or "uint64" => IntegerAttr.I64(PirSchema.Int(v, what, "an a_scalar")),
            _ => new FloatAttr(v.ValueKind == JsonValueKind.String ? Special(v.GetString()!, what) : Number(v, what), ElementType.F64),
        };
    }

    private static double Special(string text, string what) => text switch
    {
        "NaN" => QuietNaN,
        "INF" => double.PositiveInfinity,
        "-INF" => double.NegativeInfinity,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new MirException($"{what}: '{text}' is not a number"),
    };

    private static MirException Bad(JsonElement attr, string kind, string what) =>
        new($"{what}: a {kind} attribute holds {PirSchema.Describe(attr.TryGetProperty(PirSchema.Data, out var d) ? d : attr)}");
}
