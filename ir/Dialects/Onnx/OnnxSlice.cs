namespace Mopt.Dialects.Onnx;

/// <summary>One axis of an ONNX Slice resolved against its dimension: the first index, the step, and how many.</summary>
public readonly record struct AxisRange(long Start, long Step, long Count)
{
    /// <summary>
    /// start/end/step resolved as the ONNX Slice specification says: negative indices count from the end, then
    /// start and end are clamped to [0, dim] (to [0, dim-1] and [-1, dim-1] for a negative step). The one place
    /// folding, shape inference and the rewrites read a Slice, so they cannot disagree.
    /// </summary>
    public static AxisRange Resolve(long start, long end, long step, long dim)
    {
        if (step == 0) throw new ArgumentException("a Slice step cannot be 0");
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        long count;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            count = end > start ? (end - start - 1) / step + 1 : 0;
        }
        else
        {
            start = Math.Clamp(start, 0, dim - 1);
            end = Math.Clamp(end, -1, dim - 1);
            long magnitude = step == long.MinValue ? long.MaxValue : -step;
            count = start > end ? (start - end - 1) / magnitude + 1 : 0;
        }
        return new AxisRange(count > 0 ? start : 0, step, count);
    }
}
