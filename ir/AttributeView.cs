using System.Collections;

namespace Mopt.Ir;

/// <summary><see cref="Operation.Attributes"/>: the op's attributes as they are now (made once per op, at the first ask).</summary>
internal sealed class AttributeView(Operation op) : IReadOnlyList<NamedAttr>
{
    public NamedAttr this[int index] =>
        (uint)index < (uint)op.AttributeCount ? op.AttributeSpan[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public int Count => op.AttributeCount;

    public IEnumerator<NamedAttr> GetEnumerator()
    {
        for (int i = 0; i < op.AttributeCount; i++) yield return op.AttributeSpan[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
