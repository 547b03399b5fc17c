using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>Making <c>onnx.Constant</c>s with an <see cref="OpBuilder"/> (the core builder knows no dialect).</summary>
public static class OnnxBuilderExtensions
{
    /// <summary>An <c>onnx.Constant</c> holding <paramref name="value"/> (a dense or dense_resource attribute).</summary>
    public static Value Constant(this OpBuilder builder, Attr value, TensorType type, Location? location = null) =>
        builder.Create(OnnxDialect.ConstantOp, Array.Empty<Value>(), new MirType[] { type }, new[] { new NamedAttr("value", value) }, location).Result;

    /// <summary>An <c>onnx.Constant</c> whose bytes go to a new resource blob of <paramref name="module"/>.</summary>
    public static Value ResourceConstant(this OpBuilder builder, MirModule module, string keyHint, TensorType type, ReadOnlyMemory<byte> bytes,
        Location? location = null)
    {
        var key = module.Resources.Add(keyHint, ResourceBlob.Of(bytes));
        return builder.Constant(new DenseResourceAttr(type, key), type, location);
    }
}
