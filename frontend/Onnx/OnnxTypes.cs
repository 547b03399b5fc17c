using Mopt.Dialects.Onnx;
using Mopt.Ir;
using Mopt.Onnx.Proto;

namespace Mopt.Frontend.Onnx;

/// <summary>
/// ONNX types → IR types, as the onnx dialect spells them (<see cref="OnnxType"/>; the writer reads them back with
/// the same definitions).
/// </summary>
public static class OnnxTypes
{
    /// <summary>
    /// The IR type of an ONNX type; null when <paramref name="type"/> says nothing (absent, or an undefined element type).
    /// <paramref name="dimParams"/> gets the symbolic dimension names of a tensor (one per dim, "" where none), or null
    /// when it has none.
    /// </summary>
    public static MirType? FromTypeProto(TypeProto? type, out string[]? dimParams) => OnnxTypeOf(type, out dimParams)?.ToMir();

    /// <summary><c>tensor&lt;...&gt;</c> of an ONNX data type, or <c>!onnx.Tensor&lt;...&gt;</c> when the IR lacks the element type.</summary>
    public static MirType TensorOf(int dataType, IReadOnlyList<long>? shape) => new OnnxTensorType(dataType, shape).ToMir();

    /// <summary>The element type inside <c>!onnx.Seq&lt;T&gt;</c> or <c>!onnx.Opt&lt;T&gt;</c>, as an IR type.</summary>
    public static MirType? InnerType(MirType type) => OnnxType.InnerOf(type);

    private static OnnxType? OnnxTypeOf(TypeProto? type, out string[]? dimParams)
    {
        dimParams = null;
        if (type is null) return null;
        switch (type.ValueCase)
        {
            case TypeProto.ValueOneofCase.TensorType:
            {
                var t = type.TensorType;
                if (!t.HasElemType || t.ElemType == 0) return null;
                return new OnnxTensorType(t.ElemType, Shape(t.Shape, out dimParams));
            }
            case TypeProto.ValueOneofCase.SequenceType:
                return new OnnxSequenceType(ElementOrDefault(type.SequenceType.ElemType));
            case TypeProto.ValueOneofCase.OptionalType:
                return new OnnxOptionalType(ElementOrDefault(type.OptionalType.ElemType));
            case TypeProto.ValueOneofCase.MapType:
                return new OnnxMapType(type.MapType.KeyType, ElementOrDefault(type.MapType.ValueType));
            case TypeProto.ValueOneofCase.SparseTensorType:
            {
                var t = type.SparseTensorType;
                return new OnnxSparseTensorType(t.ElemType, Shape(t.Shape, out _));
            }
            case TypeProto.ValueOneofCase.OpaqueType:
                return new OnnxOpaqueType(type.OpaqueType.Domain, type.OpaqueType.Name);
            default:
                return null;
        }
    }

    /// <summary>A container's element type; one that says nothing is read as an unranked f32 tensor.</summary>
    private static OnnxType ElementOrDefault(TypeProto? type) =>
        OnnxTypeOf(type, out _) ?? new OnnxTensorType(OnnxDataTypes.Float, null);

    /// <summary>The dims (a negative one where the size is not given), null when the shape is absent (unranked).</summary>
    private static long[]? Shape(TensorShapeProto? shape, out string[]? dimParams)
    {
        dimParams = null;
        if (shape is null) return null;
        var dims = new long[shape.Dim.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            var d = shape.Dim[i];
            if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue >= 0) dims[i] = d.DimValue;
            else
            {
                dims[i] = TensorType.Dynamic;
                if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam && d.DimParam.Length > 0)
                {
                    dimParams ??= new string[dims.Length];
                    dimParams[i] = d.DimParam;
                }
            }
        }
        if (dimParams is not null)
            for (int i = 0; i < dimParams.Length; i++) dimParams[i] ??= "";
        return dims;
    }
}
