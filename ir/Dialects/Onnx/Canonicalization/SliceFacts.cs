using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>Reading and resolving Slice parameters exactly as the ONNX specification does (Slice-1, -10, -11, -13).</summary>
public static class SliceFacts
{
    /// <summary>
    /// An <c>end</c> at or above this is taken as "to the end of the axis" even when the dimension is dynamic: exporters
    /// write INT32_MAX or INT64_MAX for it, and no tensor mopt handles has an axis of 2^31 or more elements.
    /// </summary>
    public const long ToTheEnd = int.MaxValue;

    /// <summary>
    /// The Slice's parameters: attributes <c>starts</c>/<c>ends</c>/<c>axes</c> (opset &lt; 10, one operand) or the constant
    /// inputs starts, ends, axes (optional) and steps (optional). Null, with the reason, when they are not all known.
    /// </summary>
    public static SliceSpec? Read(Operation slice, MirModule module, out string why)
    {
        long[]? starts, ends, axes, steps;
        if (slice.OperandCount == 1)
        {
            starts = slice.ReadInts("starts");
            ends = slice.ReadInts("ends");
            axes = slice.ReadInts("axes");
            steps = null;
            if (starts is null || ends is null) { why = "starts or ends attribute missing"; return null; }
        }
        else if (slice.OperandCount >= 3)
        {
            starts = OnnxFacts.ConstInts(slice.GetOperand(1), module);
            ends = OnnxFacts.ConstInts(slice.GetOperand(2), module);
            if (starts is null || ends is null) { why = "starts or ends is not a constant"; return null; }
            axes = null;
            if (OnnxFacts.Optional(slice, 3) is { } a && (axes = OnnxFacts.ConstInts(a, module)) is null) { why = "axes is not a constant"; return null; }
            steps = null;
            if (OnnxFacts.Optional(slice, 4) is { } s && (steps = OnnxFacts.ConstInts(s, module)) is null) { why = "steps is not a constant"; return null; }
        }
        else { why = $"unexpected {slice.OperandCount} operands"; return null; }

        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
        {
            why = "starts, ends, axes and steps differ in length"; return null;
        }
        if (steps.Any(s => s == 0)) { why = "a step is 0"; return null; }
        why = "";
        return new SliceSpec(starts, ends, axes, steps);
    }

    /// <summary>
    /// Only the sliced axes (as written): what a rewrite needs when starts and ends may stay unknown. From the
    /// attribute or constant input, else 0..n-1 with n the length of starts (constant, or a static 1-D type).
    /// </summary>
    public static long[]? ReadAxes(Operation slice, MirModule module)
    {
        if (slice.OperandCount == 1)
        {
            if (slice.ReadInts("axes") is { } a) return a;
            return slice.ReadInts("starts") is { } s ? Range(s.Length) : null;
        }
        if (slice.OperandCount < 3) return null;
        if (OnnxFacts.Optional(slice, 3) is { } axes) return OnnxFacts.ConstInts(axes, module);
        var starts = slice.GetOperand(1);
        if (OnnxFacts.ConstInts(starts, module) is { } known) return Range(known.Length);
        return OnnxFacts.ShapeOf(starts) is [var n] && n >= 0 ? Range((int)n) : null;
    }

    private static long[] Range(int n) => Enumerable.Range(0, n).Select(i => (long)i).ToArray();

    /// <summary>The axes made non-negative for <paramref name="rank"/>; null when one is out of range or repeated.</summary>
    public static long[]? NormalizeAxes(IReadOnlyList<long> axes, int rank)
    {
        var result = new long[axes.Count];
        for (int i = 0; i < axes.Count; i++)
        {
            if (OnnxFacts.NormalizeAxis(axes[i], rank) is not long a) return null;
            result[i] = a;
        }
        return result.Distinct().Count() == result.Length ? result : null;
    }

    /// <summary>start/end/step of one axis resolved against a known dimension (see <see cref="AxisRange.Resolve"/>).</summary>
    public static AxisRange Resolve(long start, long end, long step, long dim) => AxisRange.Resolve(start, end, step, dim);

    /// <summary>
    /// True when start/end/step take the whole axis in order. <paramref name="dim"/> is -1 when dynamic: then start must
    /// be 0 and end at least <see cref="ToTheEnd"/>.
    /// </summary>
    public static bool CoversWholeAxis(long start, long end, long step, long dim)
    {
        if (step != 1) return false;
        if (dim < 0) return start == 0 && end >= ToTheEnd;
        var r = Resolve(start, end, step, dim);
        return r.Start == 0 && r.Count == dim;
    }

    /// <summary>
    /// The elements of a row-major tensor taken along each axis by <paramref name="perAxis"/> (null: the whole axis):
    /// what slicing a constant does.
    /// </summary>
    public static byte[] Gather(ReadOnlySpan<byte> data, IReadOnlyList<long> shape, int elemSize, AxisRange?[] perAxis, out long[] newShape)
    {
        int rank = shape.Count;
        newShape = new long[rank];
        for (int i = 0; i < rank; i++) newShape[i] = perAxis[i]?.Count ?? shape[i];
        long total = newShape.Aggregate(1L, (a, b) => a * b);
        var result = new byte[checked(total * elemSize)];
        if (total == 0) return result;
        var strides = new long[rank];
        long stride = 1;
        for (int i = rank - 1; i >= 0; i--) { strides[i] = stride; stride *= shape[i]; }
        var index = new long[rank];
        for (long n = 0; n < total; n++)
        {
            long offset = 0;
            for (int i = 0; i < rank; i++)
            {
                long src = perAxis[i] is { } r ? r.Start + index[i] * r.Step : index[i];
                offset += src * strides[i];
            }
            data.Slice(checked((int)(offset * elemSize)), elemSize).CopyTo(result.AsSpan(checked((int)(n * elemSize)), elemSize));
            for (int i = rank - 1; i >= 0; i--)
            {
                if (++index[i] < newShape[i]) break;
                index[i] = 0;
            }
        }
        return result;
    }
}
