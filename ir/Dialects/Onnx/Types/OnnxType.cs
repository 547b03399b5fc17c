using System.Globalization;
using System.Text;
using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>
/// An ONNX type (protobuf's <c>TypeProto</c>) as the onnx dialect spells it in the IR. Tensors of an element type the
/// IR has are <c>tensor&lt;...&gt;</c>; everything else is a dialect type: <c>!onnx.Tensor&lt;2x?xstring&gt;</c> (an
/// element type the IR lacks: string, complex64, f8E4M3FN, ...), <c>!onnx.Seq&lt;T&gt;</c>, <c>!onnx.Opt&lt;T&gt;</c>,
/// <c>!onnx.Map&lt;K, T&gt;</c>, <c>!onnx.SparseTensor&lt;2x3xf32&gt;</c>, <c>!onnx.Opaque&lt;"domain", "name"&gt;</c>.
/// The ONNX reader builds these from the protobuf and the writer reads them back from the IR: the spelling is
/// defined once, here, and needs no protobuf.
/// </summary>
public abstract record OnnxType
{
    /// <summary>How the IR spells the type.</summary>
    public abstract string Spelling { get; }

    /// <summary>The IR type: a <see cref="TensorType"/> where the IR has one, else an <see cref="OpaqueType"/> of the spelling.</summary>
    public virtual MirType ToMir() => new OpaqueType(Spelling);

    /// <summary>
    /// The ONNX type an IR type stands for, or null when it has none (a tensor of index or none, a function type,
    /// another dialect's type, a spelling that does not parse).
    /// </summary>
    public static OnnxType? FromMir(MirType type) => type switch
    {
        TensorType t => OnnxDataTypes.DataTypeOf(t.Element) is int dataType ? new OnnxTensorType(dataType, t.Shape) : null,
        OpaqueType o => OnnxTypeParser.TryParse(o.Spelling),
        _ => null,
    };

    /// <summary>The element type of <c>!onnx.Seq&lt;T&gt;</c> or <c>!onnx.Opt&lt;T&gt;</c> as an IR type; null for any other type.</summary>
    public static MirType? InnerOf(MirType type) => FromMir(type) switch
    {
        OnnxSequenceType s => s.Element.ToMir(),
        OnnxOptionalType o => o.Element.ToMir(),
        _ => null,
    };

    /// <summary><c>2x?x</c> for a ranked shape (negative: dynamic), <c>*x</c> for none.</summary>
    internal static void AppendShape(StringBuilder sb, IReadOnlyList<long>? shape)
    {
        if (shape is null) { sb.Append("*x"); return; }
        foreach (var d in shape) sb.Append(d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)).Append('x');
    }
}
