using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

/// <summary>Range and ConstantOfShape: tensors made from a few scalars.</summary>
internal static class GeneratorOps
{
    /// <summary>
    /// Range: n = max(⌈(limit − start) / delta⌉, 0) elements. Integers: start + i·delta exactly. Floats: as ONNX
    /// Runtime, limit − start in the element type, and each element the previous plus delta in the element type.
    /// </summary>
    public static ConstantTensor Range(FoldRequest r)
    {
        var start = r.Input(0);
        var limit = r.Input(1);
        var delta = r.Input(2);
        var element = start.Type.Element;
        if (limit.Type.Element != element || delta.Type.Element != element)
            throw new FoldException("start, limit and delta differ in element type");
        if (start.ElementCount != 1 || limit.ElementCount != 1 || delta.ElementCount != 1)
            throw new FoldException("start, limit and delta must be scalars");
        var kind = Tensors.KindOf(element);
        var s = Tensors.Read(start, 0);
        var l = Tensors.Read(limit, 0);
        var d = Tensors.Read(delta, 0);
        long n;
        if (kind == NumKind.Float)
        {
            if (d.F == 0 || !double.IsFinite(d.F) || !double.IsFinite(s.F) || !double.IsFinite(l.F))
                throw new FoldException("delta is 0 or a value is not finite");
            double span = ElementCodec.RoundTo(element, l.F - s.F);
            double count = Math.Ceiling(span / d.F);
            if (count > r.MaxElements) throw new FoldException($"the result would have {count:R} elements, more than max-size={r.MaxElements}");
            n = count <= 0 ? 0 : (long)count;
        }
        else if (kind == NumKind.Signed)
        {
            if (d.I == 0) throw new FoldException("delta is 0");
            Int128 span = (Int128)l.I - s.I;
            Int128 count = span / d.I + (span % d.I != 0 && (span > 0) == (d.I > 0) ? 1 : 0);
            if (count > r.MaxElements) throw new FoldException($"the result would have {count} elements, more than max-size={r.MaxElements}");
            n = count <= 0 ? 0 : (long)count;
        }
        else throw FoldException.Unsupported($"Range of {element}");

        var (type, bytes) = r.Allocate(element, [n]);
        double value = s.F;
        for (long i = 0; i < n; i++)
        {
            if (kind == NumKind.Float)
            {
                Tensors.Write(bytes, element, i, Scalar.Float(value));
                value = ElementCodec.RoundTo(element, value + d.F);
            }
            else Tensors.Write(bytes, element, i, Scalar.Int(unchecked(s.I + i * d.I)));
        }
        return new ConstantTensor(type, bytes);
    }

    /// <summary>ConstantOfShape: the shape input's dims, filled with the one-element <c>value</c> (default f32 0).</summary>
    public static ConstantTensor ConstantOfShape(FoldRequest r)
    {
        var shape = Tensors.Longs(r.Input(0), "the shape");
        if (shape.Any(d => d < 0)) throw new FoldException($"shape [{string.Join(", ", shape)}] has a negative dimension");
        ConstantTensor fill;
        switch (r.Op.GetAttr("value"))
        {
            case null:
                fill = new ConstantTensor(new TensorType(ElementType.F32, [1]), new byte[4]);
                break;
            case var attr when Constants.TryGet(attr, r.Module) is { ElementCount: 1 } one:
                fill = one;
                break;
            default:
                throw FoldException.Unsupported("its value attribute is not a one-element tensor");
        }
        var element = fill.Type.Element;
        long n = 1;
        foreach (var d in shape)
        {
            n = d == 0 ? 0 : n > r.MaxElements / d ? r.MaxElements + 1 : n * d;
        }
        r.CheckSize(n);
        var (type, bytes) = r.Allocate(element, shape);
        var pattern = fill.Bytes.Span;
        for (int at = 0; at < bytes.Length; at += pattern.Length) pattern.CopyTo(bytes.AsSpan(at));
        return new ConstantTensor(type, bytes);
    }
}
