using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Caffe's layers that move data, with BVLC Caffe's (and SSD's) shape rules; an axis is Caffe's canonical one
/// (negative counts from the end), shapes are computed from the input's known shape. Before / after:
/// <code>
/// %s:3 = "caffe.Slice"(%x) {slice_point = [1, 3]} : (tensor&lt;2x4x3xf32&gt;) -> (...)
/// %s:3 = "onnx.Split"(%x, dense&lt;[1, 2, 1]&gt;) {axis = 1} : (...) -> (tensor&lt;2x1x3xf32&gt;, tensor&lt;2x2x3xf32&gt;, tensor&lt;2x1x3xf32&gt;)
/// </code>
/// Every layer:
/// <code>
/// Concat {axis = 1 | concat_dim}          → Concat {axis}
/// Slice {axis = 1 | slice_dim, slice_point} → Split(x, sizes) {axis}   (sizes from the points, else equal parts per top)
/// Split(x)                                → x for every top
/// Flatten {axis = 1, end_axis = −1}       → Flatten {axis = 1} (axis 1 to the last), else Reshape(x, the shape Caffe computes)
/// Reshape {shape, axis = 0, num_axes = −1} → Reshape(x, the shape Caffe computes: 0 copies, −1 infers)
/// Permute {order} (SSD)                   → Transpose {perm = order, the missing axes appended in order}
/// Crop(x, like) {axis = 2, offset}         → Slice(x, offset, offset + like's dims, axes [axis, rank))
/// Tile {axis = 1, tiles}                   → Tile(x, [1, .., tiles at axis, .., 1])
/// Reduction {operation, axis = 0, coeff}   → ReduceSum / ReduceL1 / ReduceSumSquare / ReduceMean over [axis, rank), keepdims 0, times coeff
/// ArgMax {axis} (top_k 1)                  → Cast(ArgMax {axis, select_last_index}, f32), or ReduceMax with out_max_val
/// ArgMax {axis, top_k k}                   → TopK(x, k) {axis}: its indices as f32, or its values with out_max_val
/// ArgMax (no axis)                         → TopK over Reshape(x, [N, −1]): [N, 1, k] indices, [N, 2, k] indices then values with out_max_val, padded with 1s to rank ≥ 3
/// </code>
/// </summary>
internal static class CaffeShapeLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["Concat"] = l =>
        {
            var xs = Enumerable.Range(0, l.InputCount).Select(l.Input).ToList();
            long axis = l.Op.ReadInt("concat_dim") ?? Canonical(l, xs[0], l.Int("axis", 1), "axis");
            return xs.Count == 1 ? [xs[0]] : l.Become("Concat", xs, [Attr("axis", axis)]);
        };
        table["Slice"] = Slice;
        table["Split"] = l => Enumerable.Repeat(l.Input(0), l.Op.Results.Count).ToList();
        table["Flatten"] = Flatten;
        table["Reshape"] = Reshape;
        table["Permute"] = Permute;
        table["Crop"] = Crop;
        table["Tile"] = l =>
        {
            var x = l.Input(0);
            int rank = l.Rank(x, "the input of a Tile");
            long axis = Canonical(l, x, l.Int("axis", 1), "axis");
            long tiles = l.Op.ReadInt("tiles") ?? throw Blocked("a Tile layer needs tile_param.tiles");
            if (tiles < 1) throw Blocked($"tile_param.tiles must be positive, not {tiles}");
            var repeats = Enumerable.Range(0, rank).Select(a => a == axis ? tiles : 1L).ToArray();
            return [l.Emit("Tile", [x, l.ConstI64(repeats, "repeats")])];
        };
        table["Reduction"] = Reduction;
        table["ArgMax"] = ArgMax;
    }

    /// <summary>Caffe's CanonicalAxisIndex: an axis in [−rank, rank) as one in [0, rank).</summary>
    private static long Canonical(OpLowering l, Value x, long axis, string what)
    {
        int rank = l.Rank(x, "its input");
        if (axis < -rank || axis >= rank) throw Blocked($"{what} {axis} is out of range for an input of rank {rank}");
        return axis < 0 ? axis + rank : axis;
    }

    private static IReadOnlyList<long> StaticShape(OpLowering l, Value x, string what) =>
        TypeOf(x) is { HasStaticShape: true, Shape: { } s } ? s : throw Blocked($"{what} has no static shape (set the input shape)");

    private static long Product(IEnumerable<long> dims) => dims.Aggregate(1L, (a, d) => a * d);

    // slice_layer.cpp: slice_point gives the cut positions (one fewer than the tops), else the axis splits evenly.
    private static IReadOnlyList<Value> Slice(OpLowering l)
    {
        var x = l.Input(0);
        int tops = l.Op.Results.Count;
        long axis = l.Op.ReadInt("slice_dim") ?? Canonical(l, x, l.Int("axis", 1), "axis");
        int rank = l.Rank(x, "the input of a Slice");
        if (axis >= rank) throw Blocked($"slice_dim {axis} is out of range for an input of rank {rank}");
        long dim = TypeOf(x).Shape![(int)axis];
        var points = l.Ints("slice_point") ?? [];
        var parts = Enumerable.Repeat(ElementOf(x), tops).ToArray();
        // Without slice_point Caffe splits evenly, as ONNX's Split without sizes does, so an unknown size is fine.
        if (dim < 0 && points.Length == 0) return tops == 1 ? [x] : l.EmitResults("Split", [x], parts, [Attr("axis", axis)]);
        if (dim < 0) throw Blocked($"the sliced axis {axis} has no static size, and slice_point needs it");
        var sizes = new List<long>();
        if (points.Length > 0)
        {
            if (points.Length != tops - 1) throw Blocked($"it has {points.Length} slice_point for {tops} tops (Caffe needs one fewer than the tops)");
            long previous = 0;
            foreach (var p in points.Append(dim))
            {
                if (p <= previous) throw Blocked($"slice_point {OpLowering.Text(points)} must increase from above 0 to below the axis' {dim} values");
                sizes.Add(p - previous);
                previous = p;
            }
        }
        else
        {
            if (dim % tops != 0) throw Blocked($"the sliced axis has {dim} values, which {tops} tops cannot share equally");
            sizes.AddRange(Enumerable.Repeat(dim / tops, tops));
        }
        if (tops == 1) return [x];
        return l.EmitResults("Split", [x, l.ConstI64(sizes, "split")], parts, [Attr("axis", axis)]);
    }

    // flatten_layer.cpp: the axes [axis, end_axis] become one.
    private static IReadOnlyList<Value> Flatten(OpLowering l)
    {
        var x = l.Input(0);
        int rank = l.Rank(x, "the input of a Flatten");
        long axis = Canonical(l, x, l.Int("axis", 1), "axis");
        long end = Canonical(l, x, l.Int("end_axis", -1), "end_axis");
        if (end < axis) throw Blocked($"end_axis {end} comes before axis {axis}");
        if (axis == 1 && end == rank - 1) return l.Become("Flatten", [x], [Attr("axis", 1L)]);
        if (TypeOf(x) is { HasStaticShape: true, Shape: { } s })
        {
            var target = s.Take((int)axis).Append(Product(s.Skip((int)axis).Take((int)(end - axis + 1)))).Concat(s.Skip((int)end + 1));
            return [l.Emit("Reshape", [x, l.ConstI64(target.ToArray(), "shape")])];
        }
        if (end != rank - 1) throw Blocked("a Flatten that keeps trailing axes needs the input's static shape");
        return [l.Emit("Reshape", [x, l.ConstI64([.. Enumerable.Repeat(0L, (int)axis), -1L], "shape")])];
    }

    // reshape_layer.cpp: the input's axes [axis, axis + num_axes) are replaced by `shape`, whose 0 copies the input's
    // axis at the same position and whose one −1 takes what is left.
    private static IReadOnlyList<Value> Reshape(OpLowering l)
    {
        var x = l.Input(0);
        int rank = l.Rank(x, "the input of a Reshape");
        var dims = ShapeDims(l);
        long axisParam = l.Int("axis", 0), numAxes = l.Int("num_axes", -1);
        long start = axisParam >= 0 ? axisParam : rank + axisParam + 1;
        if (start < 0 || start > rank) throw Blocked($"reshape_param.axis {axisParam} is out of range for an input of rank {rank}");
        if (numAxes < -1) throw Blocked($"reshape_param.num_axes must be −1 or more, not {numAxes}");
        long end = numAxes == -1 ? rank : start + numAxes;
        if (end > rank) throw Blocked($"reshape_param axis {start} and num_axes {numAxes} go past the input's rank {rank}");
        if (dims.Count(d => d == -1) > 1) throw Blocked("reshape_param.shape has more than one −1");
        if (dims.Any(d => d < -1)) throw Blocked($"reshape_param.shape {OpLowering.Text(dims)} has a dimension below −1");
        for (int i = 0; i < dims.Length; i++)
            if (dims[i] == 0 && start + i >= rank) throw Blocked($"reshape_param.shape's 0 at {i} copies input axis {start + i}, which does not exist");

        if (TypeOf(x) is { HasStaticShape: true, Shape: { } s })
        {
            var target = s.Take((int)start).Concat(dims.Select((d, i) => d == 0 ? s[(int)start + i] : d)).Concat(s.Skip((int)end)).ToArray();
            if (Array.IndexOf(target, -1L, (int)start, dims.Length) is var inferred and >= 0)
            {
                long known = Product(target.Where((_, i) => i != inferred));
                long count = Product(s);
                if (known == 0 || count % known != 0) throw Blocked($"reshape_param.shape {OpLowering.Text(dims)} cannot hold the input's {count} values");
                target[inferred] = count / known;
            }
            if (Product(target) != Product(s)) throw Blocked($"reshape_param.shape {OpLowering.Text(dims)} gives [{string.Join("x", target)}], which does not hold the input's {Product(s)} values");
            return l.Become("Reshape", [x, l.ConstI64(target, "shape")]);
        }
        // ONNX's Reshape reads 0 (copy the same axis) and −1 as Caffe does when the kept axes stay at their positions.
        if (dims.Length != end - start && end != rank) throw Blocked("a Reshape that moves the axes after num_axes needs the input's static shape");
        long[] onnxShape = [.. Enumerable.Repeat(0L, (int)start), .. dims, .. Enumerable.Repeat(0L, (int)(rank - end))];
        return l.Become("Reshape", [x, l.ConstI64(onnxShape, "shape")]);
    }

    private static long[] ShapeDims(OpLowering l) => l.Op.GetAttr("shape") switch
    {
        null => throw Blocked("a Reshape layer needs reshape_param.shape"),
        DictionaryAttr d => d.Get("dim") switch
        {
            null => [],
            ArrayAttr a => a.Elements.Select(e => e is IntegerAttr i ? i.Value : throw Blocked($"reshape_param.shape.dim holds {e}")).ToArray(),
            var other => throw Blocked($"reshape_param.shape.dim is {other}, not a list"),
        },
        var other => throw Blocked($"reshape_param.shape is {other}, not a BlobShape"),
    };

    // SSD's permute_layer.cpp: order's axes first, then every axis it leaves out, in order.
    private static IReadOnlyList<Value> Permute(OpLowering l)
    {
        var x = l.Input(0);
        int rank = l.Rank(x, "the input of a Permute");
        var order = l.Ints("order") ?? [];
        var perm = new List<long>();
        foreach (var a in order)
        {
            if (a < 0 || a >= rank) throw Blocked($"permute_param.order {OpLowering.Text(order)} names axis {a}, the input has rank {rank}");
            if (perm.Contains(a)) throw Blocked($"permute_param.order {OpLowering.Text(order)} repeats axis {a}");
            perm.Add(a);
        }
        perm.AddRange(Enumerable.Range(0, rank).Select(a => (long)a).Where(a => !perm.Contains(a)));
        return perm.Select((a, i) => a == i).All(b => b) ? [x] : [l.Transpose(x, perm)];
    }

    // crop_layer.cpp: axes from `axis` on take the second bottom's sizes, starting at offset (one for all, or one each).
    private static IReadOnlyList<Value> Crop(OpLowering l)
    {
        var x = l.Input(0);
        int rank = l.Rank(x, "the input of a Crop");
        long axis = Canonical(l, x, l.Int("axis", 2), "axis");
        var like = StaticShape(l, l.Input(1), "the Crop's reference (second bottom)");
        if (like.Count != rank) throw Blocked($"its reference (second bottom) has rank {like.Count}, the input {rank}");
        var offsets = l.Ints("offset") ?? [];
        int cropped = rank - (int)axis;
        if (offsets.Length > 1 && offsets.Length != cropped)
            throw Blocked($"it has {offsets.Length} offsets for the {cropped} axes from axis {axis} (Caffe needs 1 or one per axis)");
        var starts = Enumerable.Range(0, cropped).Select(i => offsets.Length == 0 ? 0 : offsets.Length == 1 ? offsets[0] : offsets[i]).ToArray();
        var ends = starts.Select((o, i) => o + like[(int)axis + i]).ToArray();
        var inShape = TypeOf(x).Shape!;
        for (int i = 0; i < cropped; i++)
            if (inShape[(int)axis + i] >= 0 && ends[i] > inShape[(int)axis + i])
                throw Blocked($"axis {axis + i}: offset {starts[i]} + size {like[(int)axis + i]} is past the input's {inShape[(int)axis + i]}");
        var axes = Enumerable.Range((int)axis, cropped).Select(a => (long)a).ToArray();
        return [l.Emit("Slice", [x, l.ConstI64(starts, "starts"), l.ConstI64(ends, "ends"), l.ConstI64(axes, "axes")])];
    }

    // reduction_layer.cpp: reduces every axis from `axis` on (the output's shape is the input's first `axis` dims), times coeff.
    private static IReadOnlyList<Value> Reduction(OpLowering l)
    {
        var x = l.Input(0);
        int rank = l.Rank(x, "the input of a Reduction");
        long axis = Canonical(l, x, l.Int("axis", 0), "axis");
        string operation = l.Str("operation", "SUM");
        string onnx = operation switch
        {
            "SUM" => "ReduceSum",
            "ASUM" => "ReduceL1",
            "SUMSQ" => "ReduceSumSquare",
            "MEAN" => "ReduceMean",
            _ => throw Blocked($"Reduction operation {operation} is not SUM, ASUM, SUMSQ or MEAN"),
        };
        var axes = Enumerable.Range((int)axis, rank - (int)axis).Select(a => (long)a).ToArray();
        bool axesInput = onnx == "ReduceSum" || OnnxOpset.Of(l.Module) >= 18;
        var reduced = axesInput
            ? l.Emit(onnx, [x, l.ConstI64(axes, "axes")], [Attr("keepdims", 0L)])
            : l.Emit(onnx, [x], [Attr("axes", axes), Attr("keepdims", 0L)]);
        float coeff = l.Float("coeff", 1);
        return [coeff == 1 ? reduced : l.Emit("Mul", [reduced, l.ScalarFloat(ElementOf(x), coeff, "coeff")])];
    }

    // argmax_layer.cpp: the top_k largest along `axis` (indices as floats, or the values with out_max_val); without an
    // axis, per sample over everything else, as [N, 1, k] (indices) or [N, 2, k] (indices, then values).
    private static IReadOnlyList<Value> ArgMax(OpLowering l)
    {
        var x = l.Input(0);
        var e = ElementOf(x);
        int rank = l.Rank(x, "the input of an ArgMax");
        bool outMaxVal = l.Bool("out_max_val");
        long k = l.Int("top_k", 1);
        if (k < 1) throw Blocked($"argmax_param.top_k must be 1 or more, not {k}");
        if (l.Op.ReadInt("axis") is { } axisParam)
        {
            long axis = Canonical(l, x, axisParam, "axis");
            if (TypeOf(x).Shape![(int)axis] is var d and >= 0 && k > d) throw Blocked($"top_k {k} is more than axis {axis}'s {d} values");
            if (k == 1)
                return outMaxVal
                    ? [l.Emit("ReduceMax", [x], [Attr("axes", [axis]), Attr("keepdims", 1L)])]
                    : [ShapeLowerings.Cast(l, l.Emit("ArgMax", [x], [Attr("axis", axis), Attr("keepdims", 1L), Attr("select_last_index", 1L)], ElementType.I64), e)];
            var top = l.EmitResults("TopK", [x, l.ConstI64([k], "k")], [e, ElementType.I64], [Attr("axis", axis), Attr("largest", 1L), Attr("sorted", 1L)]);
            return [outMaxVal ? top[0] : ShapeLowerings.Cast(l, top[1], e)];
        }
        var flat = l.Emit("Reshape", [x, l.ConstI64([0, -1], "flat")]);
        if (TypeOf(flat).Shape is [_, var count and >= 0] && k > count) throw Blocked($"top_k {k} is more than the {count} values of a sample");
        var best = l.EmitResults("TopK", [flat, l.ConstI64([k], "k")], [e, ElementType.I64], [Attr("axis", 1L), Attr("largest", 1L), Attr("sorted", 1L)]);
        var one = l.ConstI64([1], "axis1");
        var indices = l.Emit("Unsqueeze", [ShapeLowerings.Cast(l, best[1], e), one]);
        var y = outMaxVal ? l.Emit("Concat", [indices, l.Emit("Unsqueeze", [best[0], one])], [Attr("axis", 1L)]) : indices;
        if (rank <= 3) return [y];
        return [l.Emit("Unsqueeze", [y, l.ConstI64([.. Enumerable.Range(3, rank - 3).Select(a => (long)a)], "trailing")])];
    }
}
