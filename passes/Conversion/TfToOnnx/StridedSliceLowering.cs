using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// <c>StridedSlice(x, begin, end, strides)</c> with its five masks, from constant begin/end/strides and a known rank:
/// <code>
/// → Slice(x, starts, ends, axes, steps)   the axes the spec slices (a masked begin/end is the whole range that way)
///   Squeeze(.., shrink axes)              shrink_axis_mask: that axis at index begin, removed
///   Unsqueeze(.., new axes)               new_axis_mask: a 1-sized axis inserted in the output
/// </code>
/// The spec is read as TensorFlow does: the ellipsis covers the axes the entries after it (new axes aside) leave, an
/// entry with new_axis consumes no input axis (and ignores its other masks), a spec shorter than the rank leaves the
/// remaining axes whole; a shrink entry takes begin alone (begin_mask ignored), begin = -1 being the last index.
/// </summary>
internal static class StridedSliceLowering
{
    public static void Register(Dictionary<string, Lowering> table) => table["StridedSlice"] = Lower;

    private static IReadOnlyList<Value> Lower(OpLowering l)
    {
        var x = l.Input(0);
        var begin = l.ConstInts(1, "begin");
        var end = l.ConstInts(2, "end");
        var strides = l.ConstInts(3, "strides");
        if (end.Length != begin.Length || strides.Length != begin.Length)
            throw Blocked($"begin {Text(begin)}, end {Text(end)} and strides {Text(strides)} differ in length");
        int rank = l.Rank(x, "its input");
        long beginMask = l.Int("begin_mask", 0), endMask = l.Int("end_mask", 0), ellipsisMask = l.Int("ellipsis_mask", 0);
        long newAxisMask = l.Int("new_axis_mask", 0), shrinkMask = l.Int("shrink_axis_mask", 0);
        bool Bit(long mask, int i) => (mask >> i & 1) != 0;

        var starts = new List<long>();
        var ends = new List<long>();
        var axes = new List<long>();
        var steps = new List<long>();
        var shrink = new List<long>();
        // The output's axes in order: true for an inserted axis, false for an input axis that stays.
        var output = new List<bool>();
        int dim = 0;
        bool ellipsisSeen = false;
        for (int i = 0; i < begin.Length; i++)
        {
            if (Bit(ellipsisMask, i) && !ellipsisSeen)
            {
                ellipsisSeen = true;
                int after = Enumerable.Range(i + 1, begin.Length - i - 1).Count(j => !Bit(newAxisMask, j));
                for (int k = rank - dim - after; k > 0; k--) { output.Add(false); dim++; }
                continue;
            }
            if (Bit(newAxisMask, i)) { output.Add(true); continue; }
            if (dim >= rank) throw Blocked($"its spec has more entries than the input's {rank} axes");
            long stride = strides[i];
            if (stride == 0) throw Blocked("a stride is 0");
            if (Bit(shrinkMask, i))
            {
                long b = begin[i];
                starts.Add(b); ends.Add(b == -1 ? long.MaxValue : b + 1); axes.Add(dim); steps.Add(1);
                shrink.Add(dim);
            }
            else
            {
                long s = Bit(beginMask, i) ? (stride > 0 ? 0 : long.MaxValue) : begin[i];
                long e = Bit(endMask, i) ? (stride > 0 ? long.MaxValue : long.MinValue) : end[i];
                if (!(s == 0 && e == long.MaxValue && stride == 1)) { starts.Add(s); ends.Add(e); axes.Add(dim); steps.Add(stride); }
                output.Add(false);
            }
            dim++;
        }
        var y = x;
        if (axes.Count > 0)
            y = l.Emit("Slice", [y, l.ConstI64(starts, "starts"), l.ConstI64(ends, "ends"), l.ConstI64(axes, "axes"), l.ConstI64(steps, "steps")]);
        if (shrink.Count > 0) y = l.Emit("Squeeze", [y, l.ConstI64(shrink, "shrink_axes")]);
        var inserted = output.Select((isNew, k) => (isNew, k)).Where(t => t.isNew).Select(t => (long)t.k).ToArray();
        if (inserted.Length > 0) y = l.Emit("Unsqueeze", [y, l.ConstI64(inserted, "new_axes")]);
        return [y];
    }
}
