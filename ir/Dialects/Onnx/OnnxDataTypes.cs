using System.Globalization;
using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>
/// ONNX's <c>TensorProto.DataType</c> codes and the IR's element types: the one table the ONNX reader, the ONNX
/// writer and the passes (Cast's <c>to</c>, QuantizeLinear's <c>output_dtype</c>, ...) share. Plain integers, so
/// that nothing here needs the protobuf classes.
/// </summary>
public static class OnnxDataTypes
{
    public const int Undefined = 0;
    public const int Float = 1;
    public const int Uint8 = 2;
    public const int Int8 = 3;
    public const int Uint16 = 4;
    public const int Int16 = 5;
    public const int Int32 = 6;
    public const int Int64 = 7;
    public const int String = 8;
    public const int Bool = 9;
    public const int Float16 = 10;
    public const int Double = 11;
    public const int Uint32 = 12;
    public const int Uint64 = 13;
    public const int Complex64 = 14;
    public const int Complex128 = 15;
    public const int Bfloat16 = 16;
    public const int Float8E4M3FN = 17;
    public const int Float8E4M3FNUZ = 18;
    public const int Float8E5M2 = 19;
    public const int Float8E5M2FNUZ = 20;
    public const int Uint4 = 21;
    public const int Int4 = 22;
    public const int Float4E2M1 = 23;
    public const int Float8E8M0 = 24;

    /// <summary>The data types the IR has an element type for.</summary>
    private static readonly (int DataType, ElementType Element)[] Elements =
    [
        (Float, ElementType.F32), (Uint8, ElementType.UI8), (Int8, ElementType.I8), (Uint16, ElementType.UI16),
        (Int16, ElementType.I16), (Int32, ElementType.I32), (Int64, ElementType.I64), (Bool, ElementType.I1),
        (Float16, ElementType.F16), (Double, ElementType.F64), (Uint32, ElementType.UI32), (Uint64, ElementType.UI64),
        (Bfloat16, ElementType.BF16), (Uint4, ElementType.UI4), (Int4, ElementType.I4),
    ];

    /// <summary>The names of the others, as <c>!onnx.Tensor&lt;...&gt;</c> spells them (MLIR's names where it has one).</summary>
    private static readonly (int DataType, string Name)[] OtherNames =
    [
        (String, "string"), (Complex64, "complex64"), (Complex128, "complex128"),
        (Float8E4M3FN, "f8E4M3FN"), (Float8E4M3FNUZ, "f8E4M3FNUZ"), (Float8E5M2, "f8E5M2"), (Float8E5M2FNUZ, "f8E5M2FNUZ"),
        (Float4E2M1, "f4E2M1FN"), (Float8E8M0, "f8E8M0FNU"),
    ];

    /// <summary>The IR element type of an ONNX data type, or null when the IR has none (string, complex, 8-bit floats, ...).</summary>
    public static ElementType? ElementOf(long dataType)
    {
        foreach (var (code, element) in Elements)
            if (code == dataType) return element;
        return null;
    }

    /// <summary>The element type of an ONNX data type code, or <c>none</c> for one the IR has no element type for (shape rules: element type unknown).</summary>
    public static ElementType ElementOrNone(long dataType) => ElementOf(dataType) ?? ElementType.None;

    /// <summary>The ONNX data type of an IR element type, or null (index, none).</summary>
    public static int? DataTypeOf(ElementType element)
    {
        foreach (var (code, e) in Elements)
            if (ReferenceEquals(e, element)) return code;
        return null;
    }

    /// <summary>The element name used in types and messages: f32, i64, ..., string, complex64, f8E4M3FN, ..., dtypeN.</summary>
    public static string ElementName(long dataType)
    {
        if (ElementOf(dataType) is { } e) return e.Name;
        foreach (var (code, name) in OtherNames)
            if (code == dataType) return name;
        return $"dtype{dataType.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>The data type an <see cref="ElementName"/> names, or null.</summary>
    public static int? DataTypeOfName(string name)
    {
        if (ElementType.TryGet(name) is { } e) return DataTypeOf(e);
        foreach (var (code, n) in OtherNames)
            if (n == name) return code;
        if (name.StartsWith("dtype", StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int v)) return v;
        return null;
    }
}
