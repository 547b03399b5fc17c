using Mopt.Dialects.Onnx;
using Mopt.Ir;
using Mopt.Onnx.Proto;

namespace Mopt.Backend.Onnx;

/// <summary>IR types → ONNX types, read as the onnx dialect spells them (<see cref="OnnxType"/>).</summary>
public static class OnnxTypeProtos
{
    /// <summary>The ONNX type of an IR type, or null when it has no ONNX form. <paramref name="dimParams"/> names symbolic dims.</summary>
    public static TypeProto? ToTypeProto(MirType type, IReadOnlyList<string>? dimParams = null) =>
        OnnxType.FromMir(type) is { } onnxType ? ToTypeProto(onnxType, dimParams) : null;

    private static TypeProto ToTypeProto(OnnxType type, IReadOnlyList<string>? dimParams) => type switch
    {
        OnnxTensorType t => TensorTypeProto(t.DataType, t.Shape, dimParams),
        OnnxSequenceType s => new TypeProto { SequenceType = new TypeProto.Types.Sequence { ElemType = ToTypeProto(s.Element, null) } },
        OnnxOptionalType o => new TypeProto { OptionalType = new TypeProto.Types.Optional { ElemType = ToTypeProto(o.Element, null) } },
        OnnxMapType m => new TypeProto { MapType = new TypeProto.Types.Map { KeyType = m.KeyDataType, ValueType = ToTypeProto(m.Value, null) } },
        OnnxSparseTensorType s => SparseTypeProto(s),
        OnnxOpaqueType o => new TypeProto { OpaqueType = new TypeProto.Types.Opaque { Domain = o.Domain, Name = o.Name } },
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "an ONNX type this writer does not know"),
    };

    private static TypeProto TensorTypeProto(int dataType, IReadOnlyList<long>? shape, IReadOnlyList<string>? dimParams)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = dataType };
        if (shape is not null) tensor.Shape = ShapeProto(shape, dimParams);
        return new TypeProto { TensorType = tensor };
    }

    private static TypeProto SparseTypeProto(OnnxSparseTensorType type)
    {
        var sparse = new TypeProto.Types.SparseTensor { ElemType = type.DataType };
        if (type.Shape is not null) sparse.Shape = ShapeProto(type.Shape, null);
        return new TypeProto { SparseTensorType = sparse };
    }

    /// <summary>Static dims as values; a dynamic one takes its name from <paramref name="dimParams"/> when it has one.</summary>
    private static TensorShapeProto ShapeProto(IReadOnlyList<long> shape, IReadOnlyList<string>? dimParams)
    {
        var s = new TensorShapeProto();
        for (int i = 0; i < shape.Count; i++)
        {
            var d = new TensorShapeProto.Types.Dimension();
            if (shape[i] >= 0) d.DimValue = shape[i];
            else if (dimParams is not null && i < dimParams.Count && dimParams[i].Length > 0) d.DimParam = dimParams[i];
            s.Dim.Add(d);
        }
        return s;
    }
}
