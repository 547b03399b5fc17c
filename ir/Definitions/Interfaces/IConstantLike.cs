namespace Mopt.Ir;

/// <summary>
/// An operation whose single result is a tensor held in one of its attributes (<c>onnx.Constant</c>'s <c>value</c>,
/// <c>tf.Const</c>'s <c>value</c>): what fold-constants, dedupe-constants and fold-bn read weights from.
/// </summary>
public interface IConstantLike
{
    /// <summary>The attribute holding the value (<c>dense</c> or <c>dense_resource</c>), or null when it holds none.</summary>
    Attr? ValueAttribute(Operation op);

    /// <summary>Makes <paramref name="op"/> hold <paramref name="value"/> instead, as a pass rewriting weights in place does.</summary>
    void SetValueAttribute(Operation op, Attr value) =>
        throw new NotSupportedException($"'{op.Name}' cannot be given a new value in place");
}

/// <summary>The usual constant: its value is the attribute named <paramref name="Attribute"/>.</summary>
public sealed record ConstantValueAttribute(string Attribute) : IConstantLike
{
    public Attr? ValueAttribute(Operation op) => op.GetAttr(Attribute) is DenseElementsAttr or DenseResourceAttr ? op.GetAttr(Attribute) : null;

    public void SetValueAttribute(Operation op, Attr value) => op.SetAttr(Attribute, value);
}
