using Mopt.Ir;

namespace Mopt.Dialects.Onnx.Folding;

/// <summary>Gather, Concat, Slice and Transpose: they move elements without looking at them, for every element type.</summary>
internal static class IndexingOps
{
    public static ConstantTensor Gather(FoldRequest r)
    {
        var data = r.Input(0);
        var indicesTensor = r.Input(1);
        var indices = Tensors.Longs(indicesTensor, "the indices");
        var shape = Tensors.ShapeOf(data);
        int axis = Tensors.Axis(r.Int("axis", 0), shape.Length);
        long dim = shape[axis];
        var outShape = shape[..axis].Concat(Tensors.ShapeOf(indicesTensor)).Concat(shape[(axis + 1)..]).ToArray();
        var (type, bytes) = r.Allocate(data.Type.Element, outShape);
        long outer = Tensors.Count(shape[..axis]);
        int chunk = checked((int)(Tensors.Count(shape[(axis + 1)..]) * data.Type.Element.ByteSize));
        var resolved = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            long raw = indices[i], k = raw < 0 ? raw + dim : raw;
            if (k < 0 || k >= dim) throw new FoldException($"index {raw} is out of range for a dimension of {dim}");
            resolved[i] = k;
        }
        AxisTake.Copy(data.Bytes.Span, outer, dim, chunk, resolved, bytes);
        return new ConstantTensor(type, bytes);
    }

    public static ConstantTensor Concat(FoldRequest r)
    {
        var inputs = r.PresentInputs.ToList();
        if (inputs.Count == 0) throw new FoldException("Concat has no inputs");
        var element = inputs[0].Type.Element;
        var first = Tensors.ShapeOf(inputs[0]);
        int axis = Tensors.Axis(OnnxLegacy.ConcatAxis(r.Op, OnnxOpset.Stated(r.Module)) ?? 0, first.Length);
        var outShape = first.ToArray();
        outShape[axis] = 0;
        foreach (var t in inputs)
        {
            var s = Tensors.ShapeOf(t);
            if (t.Type.Element != element || s.Length != first.Length || s.Where((d, i) => i != axis && d != first[i]).Any())
                throw new FoldException($"inputs {inputs[0].Type} and {t.Type} cannot be concatenated on axis {axis}");
            outShape[axis] += s[axis];
        }
        var (type, bytes) = r.Allocate(element, outShape);
        long outer = Tensors.Count(first[..axis]);
        long inner = Tensors.Count(first[(axis + 1)..]) * element.ByteSize;
        int at = 0;
        for (long o = 0; o < outer; o++)
            foreach (var t in inputs)
            {
                int chunk = checked((int)(t.Type.Shape![axis] * inner));
                t.Bytes.Span.Slice(checked((int)(o * chunk)), chunk).CopyTo(bytes.AsSpan(at, chunk));
                at += chunk;
            }
        return new ConstantTensor(type, bytes);
    }

    public static ConstantTensor Transpose(FoldRequest r)
    {
        var data = r.Input(0);
        var shape = Tensors.ShapeOf(data);
        int rank = shape.Length;
        var perm = r.Ints("perm") ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != rank || perm.Order().Where((p, i) => p != i).Any())
            throw new FoldException($"perm [{string.Join(", ", perm)}] is not a permutation of {rank} axes");
        var outShape = perm.Select(p => shape[p]).ToArray();
        var inStrides = Tensors.Strides(shape);
        return Remap(r, data, outShape, perm.Select(p => inStrides[p]).ToArray(), 0);
    }

    /// <summary>Slice: starts/ends/axes/steps as inputs (opset 10 and later) or attributes (before).</summary>
    public static ConstantTensor Slice(FoldRequest r)
    {
        var data = r.Input(0);
        var shape = Tensors.ShapeOf(data);
        var (starts, steps, outShape) = SliceParameters(r, shape);
        var inStrides = Tensors.Strides(shape);
        long offset = 0;
        var strides = new long[shape.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            offset += starts[d] * inStrides[d];
            strides[d] = steps[d] * inStrides[d];
        }
        return Remap(r, data, outShape, strides, offset);
    }

    /// <summary>For every axis: the first index read, the step, and how many are read.</summary>
    public static (long[] Starts, long[] Steps, long[] Counts) SliceParameters(FoldRequest r, long[] shape)
    {
        long[] starts, ends;
        long[]? axes, steps;
        if (r.Op.GetAttr("starts") is not null)
        {
            starts = r.Ints("starts")!;
            ends = r.Ints("ends") ?? throw new FoldException("Slice has starts but no ends");
            axes = r.Ints("axes");
            steps = null;
        }
        else
        {
            starts = Tensors.Longs(r.Input(1), "starts");
            ends = Tensors.Longs(r.Input(2), "ends");
            axes = r.Optional(3) is { } a ? Tensors.Longs(a, "axes") : null;
            steps = r.Optional(4) is { } s ? Tensors.Longs(s, "steps") : null;
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps is not null && steps.Length != starts.Length)
            throw new FoldException("starts, ends, axes and steps differ in length");

        int rank = shape.Length;
        var outStarts = new long[rank];
        var outSteps = Enumerable.Repeat(1L, rank).ToArray();
        var counts = shape.ToArray();
        var seen = new bool[rank];
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = Tensors.Axis(axes[i], rank);
            if (seen[axis]) throw new FoldException($"axis {axes[i]} is repeated");
            seen[axis] = true;
            long dim = shape[axis], step = steps?[i] ?? 1;
            if (step == 0) throw new FoldException("a step is 0");
            var range = AxisRange.Resolve(starts[i], ends[i], step, dim);
            outStarts[axis] = range.Start;
            outSteps[axis] = step;
            counts[axis] = range.Count;
        }
        return (outStarts, outSteps, counts);
    }

    /// <summary>Output element i (of <paramref name="outShape"/>) reads input element offset + Σ index_d · strides_d.</summary>
    private static ConstantTensor Remap(FoldRequest r, ConstantTensor data, long[] outShape, long[] strides, long offset)
    {
        var (type, bytes) = r.Allocate(data.Type.Element, outShape);
        StridedCopy.Copy(data.Bytes.Span, bytes, data.Type.Element.ByteSize, outShape, strides, offset);
        return new ConstantTensor(type, bytes);
    }
}
