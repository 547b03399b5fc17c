using Mopt.Dialects.Onnx.Folding;
using Mopt.Ir;

namespace Mopt.Dialects.Tf.Folding;

/// <summary>
/// The evaluators of <see cref="TfFolders"/> that TensorFlow defines differently from ONNX: Reshape (-1 inferred, 0 a
/// real zero), Pack/ConcatV2 (the axis an attribute or the last input), StridedSlice (begin/end/shrink masks),
/// Cast (<c>DstT</c>), Rsqrt, Square, RealDiv (floats only), Shape (<c>out_type</c>, int32 by default).
/// </summary>
internal static class TfShapeFolding
{
    public static ConstantTensor? Shape(Operation op)
    {
        if (op.OperandCount < 1 || op.GetOperand(0).Type is not TensorType { Shape: { } dims } || dims.Any(d => d < 0)) return null;
        var element = op.GetAttr("out_type") is TypeAttr { Type: ElementType e } ? e : ElementType.I32;
        if (element != ElementType.I32 && element != ElementType.I64) return null;
        return Ints(element, dims);
    }

    public static ConstantTensor Rsqrt(FoldRequest r) => FloatUnary(r, x => 1.0 / Math.Sqrt(x));
    public static ConstantTensor Square(FoldRequest r) => FloatUnary(r, x => x * x);

    public static ConstantTensor RealDiv(FoldRequest r)
    {
        if (!r.Input(0).Type.Element.IsFloat) throw FoldException.Unsupported($"RealDiv of {r.Input(0).Type.Element}");
        return ElementwiseOps.Div(r);
    }

    private static ConstantTensor FloatUnary(FoldRequest r, Func<double, double> f)
    {
        var x = r.Input(0);
        if (!x.Type.Element.IsFloat) throw FoldException.Unsupported($"{r.Op.OpType} of {x.Type.Element}");
        return Tensors.Map(r, [x], x.Type.Element, args => Scalar.Float(f(args[0].F)));
    }

    public static ConstantTensor Cast(FoldRequest r)
    {
        if (r.Op.GetAttr("DstT") is not TypeAttr { Type: ElementType target })
            throw FoldException.Unsupported("Cast without a DstT of a numeric type");
        return ElementwiseOps.CastTo(r, r.Input(0), target);
    }

    public static ConstantTensor Reshape(FoldRequest r)
    {
        var x = r.Input(0);
        var wanted = Tensors.Longs(r.Input(1), "the shape");
        long count = x.ElementCount, known = 1;
        int unknown = -1;
        for (int i = 0; i < wanted.Length; i++)
        {
            if (wanted[i] == -1)
            {
                if (unknown >= 0) throw new FoldException("the shape has more than one -1");
                unknown = i;
            }
            else if (wanted[i] < 0) throw new FoldException($"the shape has dim {wanted[i]}");
            else known = checked(known * wanted[i]);
        }
        if (unknown >= 0)
        {
            if (known == 0 || count % known != 0) throw new FoldException($"{count} elements do not reshape to [{string.Join(",", wanted)}]");
            wanted[unknown] = count / known;
        }
        else if (known != count) throw new FoldException($"{count} elements do not reshape to [{string.Join(",", wanted)}]");
        return new ConstantTensor(new TensorType(x.Type.Element, wanted), x.Bytes);
    }

    public static ConstantTensor ExpandDims(FoldRequest r)
    {
        var x = r.Input(0);
        var axes = Tensors.Longs(r.Input(1), "the axis");
        if (axes.Length != 1) throw new FoldException("ExpandDims takes one axis");
        var shape = Tensors.ShapeOf(x).ToList();
        int axis = Tensors.Axis(axes[0], shape.Count + 1);
        shape.Insert(axis, 1);
        return new ConstantTensor(new TensorType(x.Type.Element, shape), x.Bytes);
    }

    public static ConstantTensor Squeeze(FoldRequest r)
    {
        var x = r.Input(0);
        var shape = Tensors.ShapeOf(x);
        var dims = r.Op.GetAttr("squeeze_dims") is ArrayAttr a ? a.Elements.OfType<IntegerAttr>().Select(i => (long)Tensors.Axis(i.Value, shape.Length)).ToHashSet() : [];
        var kept = new List<long>();
        for (int i = 0; i < shape.Length; i++)
        {
            bool squeeze = dims.Count == 0 ? shape[i] == 1 : dims.Contains(i);
            if (squeeze && shape[i] != 1) throw new FoldException($"cannot squeeze dim {i} of size {shape[i]}");
            if (!squeeze) kept.Add(shape[i]);
        }
        return new ConstantTensor(new TensorType(x.Type.Element, kept), x.Bytes);
    }

    public static ConstantTensor Pack(FoldRequest r)
    {
        var inputs = r.PresentInputs.ToList();
        if (inputs.Count == 0) throw new FoldException("Pack of nothing");
        var shape = Tensors.ShapeOf(inputs[0]);
        if (inputs.Any(t => !Tensors.ShapeOf(t).SequenceEqual(shape) || t.Type.Element != inputs[0].Type.Element))
            throw new FoldException("Pack of tensors of different shapes or types");
        int axis = Tensors.Axis(r.Int("axis", 0), shape.Length + 1);
        var expanded = shape.ToList();
        expanded.Insert(axis, 1);
        return Concat(r, inputs.Select(t => new ConstantTensor(new TensorType(t.Type.Element, expanded), t.Bytes)).ToList(), axis);
    }

    public static ConstantTensor ConcatV2(FoldRequest r)
    {
        var all = r.PresentInputs.ToList();
        if (all.Count < 2) throw new FoldException("ConcatV2 needs its values and an axis");
        var axisValues = Tensors.Longs(all[^1], "the axis");
        if (axisValues.Length != 1) throw new FoldException("the axis is not a scalar");
        var inputs = all.Take(all.Count - 1).ToList();
        return Concat(r, inputs, Tensors.Axis(axisValues[0], inputs[0].Type.Rank));
    }

    /// <summary>The inputs (same rank and element type) one after another along <paramref name="axis"/>.</summary>
    private static ConstantTensor Concat(FoldRequest r, IReadOnlyList<ConstantTensor> inputs, int axis)
    {
        var element = inputs[0].Type.Element;
        var first = Tensors.ShapeOf(inputs[0]);
        foreach (var t in inputs)
        {
            var s = Tensors.ShapeOf(t);
            if (t.Type.Element != element || s.Length != first.Length || Enumerable.Range(0, s.Length).Any(d => d != axis && s[d] != first[d]))
                throw new FoldException("inputs of different element types or shapes");
        }
        var shape = (long[])first.Clone();
        shape[axis] = inputs.Sum(t => t.Type.Shape![axis]);
        var (type, bytes) = r.Allocate(element, shape);
        long outer = Tensors.Count(first.Take(axis).ToArray());
        int size = element.ByteSize;
        long at = 0;
        for (long o = 0; o < outer; o++)
            foreach (var t in inputs)
            {
                long chunk = Tensors.Count(Tensors.ShapeOf(t).Skip(axis).ToArray()) * size;
                t.Bytes.Span.Slice(checked((int)(o * chunk)), (int)chunk).CopyTo(bytes.AsSpan(checked((int)at)));
                at += chunk;
            }
        return new ConstantTensor(type, bytes);
    }

    /// <summary>
    /// StridedSlice with begin_mask, end_mask and shrink_axis_mask; ellipsis_mask and new_axis_mask must be 0 (not
    /// folded otherwise). Per sliced dim, as TensorFlow: negative indices count from the end, then clamp to
    /// [0, dim] for a positive stride, [-1, dim - 1] for a negative one; a shrunk dim takes the one element at begin.
    /// </summary>
    public static ConstantTensor StridedSlice(FoldRequest r)
    {
        var x = r.Input(0);
        var begin = Tensors.Longs(r.Input(1), "begin");
        var end = Tensors.Longs(r.Input(2), "end");
        var strides = Tensors.Longs(r.Input(3), "strides");
        if (r.Int("ellipsis_mask", 0) != 0 || r.Int("new_axis_mask", 0) != 0)
            throw FoldException.Unsupported("StridedSlice with ellipsis_mask or new_axis_mask");
        long beginMask = r.Int("begin_mask", 0), endMask = r.Int("end_mask", 0), shrinkMask = r.Int("shrink_axis_mask", 0);
        var inShape = Tensors.ShapeOf(x);
        int rank = inShape.Length;
        if (begin.Length != end.Length || begin.Length != strides.Length || begin.Length > rank)
            throw new FoldException("begin, end and strides differ in length or exceed the rank");
        var starts = new long[rank];
        var steps = new long[rank];
        var counts = new long[rank];
        var outShape = new List<long>();
        for (int d = 0; d < rank; d++)
        {
            long dim = inShape[d];
            if (d >= begin.Length) { starts[d] = 0; steps[d] = 1; counts[d] = dim; outShape.Add(dim); continue; }
            long stride = strides[d];
            if (stride == 0) throw new FoldException("a stride is 0");
            bool shrink = (shrinkMask >> d & 1) != 0;
            if (shrink)
            {
                long b = begin[d] < 0 ? begin[d] + dim : begin[d];
                if (b < 0 || b >= dim) throw new FoldException($"index {begin[d]} is out of range for dim {d} of size {dim}");
                starts[d] = b; steps[d] = 1; counts[d] = 1;
                continue;
            }
            long lo = stride > 0 ? 0 : -1, hi = stride > 0 ? dim : dim - 1;
            long start = (beginMask >> d & 1) != 0 ? (stride > 0 ? 0 : dim - 1) : Math.Clamp(begin[d] < 0 ? begin[d] + dim : begin[d], lo, hi);
            long stop = (endMask >> d & 1) != 0 ? (stride > 0 ? dim : -1) : Math.Clamp(end[d] < 0 ? end[d] + dim : end[d], lo, hi);
            long n = stride > 0 ? Math.Max(0, (stop - start + stride - 1) / stride) : Math.Max(0, (start - stop - stride - 1) / -stride);
            starts[d] = start; steps[d] = stride; counts[d] = n;
            outShape.Add(n);
        }
        var element = x.Type.Element;
        var (_, bytes) = r.Allocate(element, outShape);
        var inStrides = Tensors.Strides(inShape);
        long total = Tensors.Count(counts);
        int size = element.ByteSize;
        var index = new long[rank];
        for (long i = 0; i < total; i++)
        {
            long rest = i, offset = 0;
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d] = rest % counts[d];
                rest /= counts[d];
                offset += (starts[d] + index[d] * steps[d]) * inStrides[d];
            }
            x.Bytes.Span.Slice(checked((int)(offset * size)), size).CopyTo(bytes.AsSpan(checked((int)(i * size))));
        }
        return new ConstantTensor(new TensorType(element, outShape), bytes);
    }

    private static ConstantTensor Ints(ElementType element, IReadOnlyList<long> values)
    {
        var bytes = new byte[values.Count * element.ByteSize];
        for (int i = 0; i < values.Count; i++) ElementCodec.WriteInteger(bytes.AsSpan(i * element.ByteSize, element.ByteSize), element, values[i]);
        return new ConstantTensor(new TensorType(element, [values.Count]), bytes);
    }
}
