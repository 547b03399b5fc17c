using Mopt.Ir;

namespace Mopt.Dialects.Paddle;

/// <summary>
/// Paddle's <c>VarType.Type</c> codes of tensor elements and the IR's element types: the one table the Paddle reader and
/// writer share. Plain integers, so that nothing here needs the protobuf classes.
/// </summary>
public static class PaddleDataTypes
{
    /// <summary>VarType.Type: a dense tensor (LOD_TENSOR, DENSE_TENSOR in Paddle 3), the kind every parameter and activation has.</summary>
    public const int LodTensor = 7;
    public const int FeedMinibatch = 9;
    public const int FetchList = 10;

    private static readonly (int Code, string Name, ElementType Element)[] Elements =
    [
        (0, "BOOL", ElementType.I1), (1, "INT16", ElementType.I16), (2, "INT32", ElementType.I32), (3, "INT64", ElementType.I64),
        (4, "FP16", ElementType.F16), (5, "FP32", ElementType.F32), (6, "FP64", ElementType.F64), (20, "UINT8", ElementType.UI8),
        (21, "INT8", ElementType.I8), (22, "BF16", ElementType.BF16), (37, "UINT32", ElementType.UI32), (38, "UINT64", ElementType.UI64),
    ];

    /// <summary>The IR element type of a tensor element code; null for a code that is not one (or that the IR lacks: complex, fp8).</summary>
    public static ElementType? Element(int code)
    {
        foreach (var e in Elements)
            if (e.Code == code) return e.Element;
        return null;
    }

    /// <summary>The element code of an IR element type; null when Paddle has none.</summary>
    public static int? Code(ElementType element)
    {
        foreach (var e in Elements)
            if (ReferenceEquals(e.Element, element)) return e.Code;
        return null;
    }

    /// <summary>Paddle's name of an element code (<c>FP32</c>), or the number for one this table lacks.</summary>
    public static string Name(int code)
    {
        foreach (var e in Elements)
            if (e.Code == code) return e.Name;
        return code.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
