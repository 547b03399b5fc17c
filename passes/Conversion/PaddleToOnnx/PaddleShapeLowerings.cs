using Mopt.Dialects.Paddle;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;
using static Mopt.Passes.Conversion.PaddleParams;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Paddle's matrix products (mul, matmul, matmul_v2, fc) and shape ops (reshape, transpose, flatten, squeeze,
/// unsqueeze, concat, split, slice, shuffle_channel, gather), v1 and v2 spellings alike (the v2 ops' XShape is not imported).
/// <code>
/// Before: %y = "paddle.mul"(%x, %w) {x_num_col_dims = 1 : i32, y_num_col_dims = 1 : i32}     x: [N, 64, 1, 1], w: [64, 10]
/// After:  %f = "onnx.Flatten"(%x) {axis = 1}; %y = "onnx.MatMul"(%f, %w)
/// </code>
/// mul flattens X to [prod(x[:xn]), prod(x[xn:])] and Y to [prod(y[:yn]), prod(y[yn:])] and gives x[:xn] + y[yn:].
/// squeeze ignores axes whose size is not 1 (Paddle does; ONNX would fail); unsqueeze inserts its axes one at a time,
/// a negative one counted from the shape so far, as Paddle does. slice's decrease_axis squeezes the sliced axes.
/// </summary>
internal static class PaddleShapeLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["mul"] = Mul;
        table["matmul"] = l => MatMul(l, Bool(l, "transpose_X", false), Bool(l, "transpose_Y", false), Float(l, "alpha", 1));
        table["matmul_v2"] = l => MatMul(l, Bool(l, "trans_x", false), Bool(l, "trans_y", false), 1);
        table["fc"] = Fc;
        table["reshape"] = Reshape;
        table["reshape2"] = Reshape;
        table["transpose"] = Transpose;
        table["transpose2"] = Transpose;
        table["flatten"] = l => Results(l, ("Out", l.Emit("Flatten", [Input(l, "X")], [Attr("axis", Int(l, "axis", 1))])));
        table["flatten2"] = table["flatten"];
        table["flatten_contiguous_range"] = FlattenRange;
        table["squeeze"] = Squeeze;
        table["squeeze2"] = Squeeze;
        table["unsqueeze"] = Unsqueeze;
        table["unsqueeze2"] = Unsqueeze;
        table["concat"] = Concat;
        table["split"] = Split;
        table["slice"] = Slice;
        table["shuffle_channel"] = ShuffleChannel;
        table["gather"] = Gather;
    }

    private static IReadOnlyList<Value> Mul(OpLowering l)
    {
        var x = Input(l, "X");
        var y = Input(l, "Y");
        long xn = Int(l, "x_num_col_dims", 1), yn = Int(l, "y_num_col_dims", 1);
        int rx = l.Rank(x, "its input X"), ry = l.Rank(y, "its input Y");
        if (xn < 1 || xn >= rx || yn < 1 || yn >= ry) throw Blocked($"x_num_col_dims {xn} / y_num_col_dims {yn} do not split X (rank {rx}) and Y (rank {ry})");
        var x2 = rx == 2 && xn == 1 ? x : l.Emit("Flatten", [x], [Attr("axis", xn)]);
        var y2 = ry == 2 && yn == 1 ? y : l.Emit("Flatten", [y], [Attr("axis", yn)]);
        var product = l.Emit("MatMul", [x2, y2]);
        if (xn == 1 && ry == yn + 1) return Results(l, ("Out", product));
        var target = Shape(x, "X").Take((int)xn).Concat(Shape(y, "Y").Skip((int)yn)).ToArray();
        return Results(l, ("Out", l.Emit("Reshape", [product, l.ConstI64(OneUnknown(target), "out_shape")])));
    }

    /// <summary>A target shape with at most one unknown size, written as -1 (Reshape infers it).</summary>
    private static long[] OneUnknown(long[] shape)
    {
        if (shape.Count(d => d < 0) > 1) throw Blocked($"the output shape {Text(shape)} has more than one unknown size");
        return shape.Select(d => d < 0 ? -1 : d).ToArray();
    }

    private static IReadOnlyList<Value> MatMul(OpLowering l, bool transposeX, bool transposeY, double alpha)
    {
        var x = Input(l, "X");
        var y = Input(l, "Y");
        int rx = l.Rank(x, "its input X"), ry = l.Rank(y, "its input Y");
        if (rx < 2 || ry < 2) throw Blocked($"its inputs have ranks {rx} and {ry}; matmul of vectors is not lowered");
        if (transposeX) x = l.Transpose(x, SwapLast(rx));
        if (transposeY) y = l.Transpose(y, SwapLast(ry));
        var product = l.Emit("MatMul", [x, y]);
        if (alpha != 1) product = l.Emit("Mul", [product, l.ScalarFloat(ElementOf(product), alpha, "alpha")]);
        return Results(l, ("Out", product));
    }

    private static long[] SwapLast(int rank)
    {
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (perm[rank - 2], perm[rank - 1]) = (perm[rank - 1], perm[rank - 2]);
        return perm;
    }

    private static IReadOnlyList<Value> Fc(OpLowering l)
    {
        var x = Input(l, "Input");
        var w = Input(l, "W");
        long n = Int(l, "in_num_col_dims", 1);
        int rank = l.Rank(x, "its input");
        if (n < 1 || n >= rank) throw Blocked($"in_num_col_dims {n} does not split its rank-{rank} input");
        var y = l.Emit("MatMul", [rank == 2 && n == 1 ? x : l.Emit("Flatten", [x], [Attr("axis", n)]), w]);
        if (Optional(l, "Bias") is { } bias) y = l.Emit("Add", [y, bias]);
        var activation = Str(l, "activation_type", "");
        if (activation == "relu") y = l.Emit("Relu", [y]);
        else if (activation.Length > 0) throw Blocked($"activation_type '{activation}' is not relu");
        if (n > 1)
        {
            var target = Shape(x, "its input").Take((int)n).Append(Shape(w, "its weight")[^1]).ToArray();
            y = l.Emit("Reshape", [y, l.ConstI64(OneUnknown(target), "out_shape")]);
        }
        return Results(l, ("Out", y));
    }

    private static IReadOnlyList<Value> Reshape(OpLowering l)
    {
        var x = Input(l, "X");
        Value shape;
        if (Optional(l, "Shape") is { } given) shape = ToI64(l, given);
        else if (Slot(l, "ShapeTensor") is { Count: > 0 } parts) shape = ToI64(l, l.Emit("Concat", parts.Select(p => ToI64(l, p)).ToList(), [Attr("axis", 0)]));
        else shape = l.ConstI64(Ints(l, "shape", []), "shape");
        return Results(l, ("Out", l.Emit("Reshape", [x, shape])));
    }

    private static Value ToI64(OpLowering l, Value v) =>
        ElementOf(v) == ElementType.I64 ? v : l.Emit("Cast", [v], [Attr("to", (long)Mopt.Dialects.Onnx.OnnxDataTypes.DataTypeOf(ElementType.I64)!)], ElementType.I64);

    private static IReadOnlyList<Value> Transpose(OpLowering l) =>
        Results(l, ("Out", l.Transpose(Input(l, "X"), Ints(l, "axis", []))));

    private static IReadOnlyList<Value> FlattenRange(OpLowering l)
    {
        var x = Input(l, "X");
        var shape = Shape(x, "its input");
        int rank = shape.Count;
        long start = Int(l, "start_axis", 1), stop = Int(l, "stop_axis", 1);
        if (start < 0) start += rank;
        if (stop < 0) stop += rank;
        if (rank == 0) return Results(l, ("Out", l.Emit("Reshape", [x, l.ConstI64([1], "shape")])));
        if (start < 0 || stop >= rank || start > stop) throw Blocked($"start_axis {start} and stop_axis {stop} do not fit rank {rank}");
        var tail = shape.Skip((int)stop + 1).ToArray();
        if (tail.Any(d => d < 0)) throw Blocked($"the dims after stop_axis, {Text(tail)}, must be known");
        // 0 copies a leading dim (same index in and out); the flattened run is -1; the tail is written out.
        long[] target = [.. Enumerable.Repeat(0L, (int)start), -1, .. tail];
        return Results(l, ("Out", l.Emit("Reshape", [x, l.ConstI64(target, "shape")])));
    }

    private static IReadOnlyList<Value> Squeeze(OpLowering l)
    {
        var x = Input(l, "X");
        var axes = Ints(l, "axes", []);
        if (axes.Length == 0) return Results(l, ("Out", l.Emit("Squeeze", [x])));
        var shape = Shape(x, "its input");
        var kept = new List<long>();
        foreach (var a in axes)
        {
            long axis = a < 0 ? a + shape.Count : a;
            if (axis < 0 || axis >= shape.Count) throw Blocked($"axis {a} is outside rank {shape.Count}");
            if (shape[(int)axis] < 0) throw Blocked($"axis {a} has an unknown size (Paddle squeezes it only if it is 1)");
            if (shape[(int)axis] == 1 && !kept.Contains(axis)) kept.Add(axis);
        }
        if (kept.Count == 0) return Results(l, ("Out", l.Emit("Identity", [x])));
        return Results(l, ("Out", l.Emit("Squeeze", [x, l.ConstI64(kept, "axes")])));
    }

    private static IReadOnlyList<Value> Unsqueeze(OpLowering l)
    {
        if (Optional(l, "AxesTensor") is not null || Slot(l, "AxesTensorList").Count > 0) throw Blocked("its axes come from an input; only the axes attribute is lowered");
        var x = Input(l, "X");
        var axes = Ints(l, "axes", []);
        int rank = l.Rank(x, "its input");
        // Paddle's GetUnsqueezeShape: each axis is inserted into the shape so far, earlier ones moving back.
        var marked = new bool[rank + axes.Length + 1];
        int size = rank;
        foreach (var a in axes)
        {
            long cur = a < 0 ? a + size + 1 : a;
            if (cur < 0 || cur > size) throw Blocked($"axis {a} is outside the rank {size} shape it is inserted into");
            for (int i = size; i >= cur; i--)
                if (marked[i]) { marked[i + 1] = true; marked[i] = false; }
            marked[cur] = true;
            size++;
        }
        var positions = Enumerable.Range(0, size).Where(i => marked[i]).Select(i => (long)i).ToArray();
        return Results(l, ("Out", l.Emit("Unsqueeze", [x, l.ConstI64(positions, "axes")])));
    }

    private static IReadOnlyList<Value> Concat(OpLowering l)
    {
        if (Optional(l, "AxisTensor") is not null) throw Blocked("its axis comes from an input; only the axis attribute is lowered");
        return Results(l, ("Out", l.Emit("Concat", Slot(l, "X"), [Attr("axis", Int(l, "axis", 0))])));
    }

    private static IReadOnlyList<Value> Split(OpLowering l)
    {
        if (Optional(l, "AxisTensor") is not null || Slot(l, "SectionsTensorList").Count > 0) throw Blocked("its axis or sections come from inputs; only attributes are lowered");
        var x = Input(l, "X");
        long axis = Int(l, "axis", 0);
        var shape = Shape(x, "its input");
        if (axis < 0) axis += shape.Count;
        if (axis < 0 || axis >= shape.Count) throw Blocked($"axis {Int(l, "axis", 0)} is outside rank {shape.Count}");
        int outputs = l.Op.Results.Count;
        var sections = Ints(l, "sections", []);
        long num = Int(l, "num", 0);
        var operands = new List<Value> { x };
        if (sections.Length > 0)
        {
            if (sections.Length != outputs) throw Blocked($"sections {Text(sections)} for {outputs} outputs");
            if (sections.Count(s => s < 0) == 1)
            {
                if (shape[(int)axis] < 0) throw Blocked($"a -1 section needs axis {axis}'s size");
                sections = sections.Select(s => s < 0 ? shape[(int)axis] - sections.Where(k => k >= 0).Sum() : s).ToArray();
            }
            operands.Add(l.ConstI64(sections, "split"));
        }
        else if (num != outputs) throw Blocked($"num {num} for {outputs} outputs");
        var parts = l.EmitResults("Split", operands, Enumerable.Repeat(ElementOf(x), outputs).ToList(), [Attr("axis", axis)]);
        if (l.Op.GetAttr(PaddleDialect.OutputsAttr) is not DictionaryAttr { Entries: [{ Name: "Out" }] }) throw Blocked("split's outputs are not one Out slot");
        return parts;
    }

    private static IReadOnlyList<Value> Slice(OpLowering l)
    {
        foreach (var tensor in new[] { "StartsTensor", "EndsTensor", "StartsTensorList", "EndsTensorList" })
            if (Slot(l, tensor).Count > 0) throw Blocked($"its {tensor} input gives the bounds; only the starts/ends attributes are lowered");
        var x = Input(l, "Input");
        var axes = Ints(l, "axes", []);
        var starts = Ints(l, "starts", []);
        var ends = Ints(l, "ends", []);
        if (starts.Length != axes.Length || ends.Length != axes.Length) throw Blocked($"axes {Text(axes)}, starts {Text(starts)}, ends {Text(ends)} differ in length");
        var y = l.Emit("Slice", [x, l.ConstI64(starts, "starts"), l.ConstI64(ends, "ends"), l.ConstI64(axes, "axes")]);
        var decrease = Ints(l, "decrease_axis", []);
        if (decrease.Length > 0)
        {
            int rank = l.Rank(x, "its input");
            if (decrease.Length == rank)
            {
                // every axis decreased: Paddle 2.x gives shape [1], Paddle 3 a scalar; the program's var says which
                bool vector = l.Op.Results[0].Type is TensorType { Shape.Count: 1 };
                y = l.Emit("Reshape", [y, l.ConstI64(vector ? [1] : [], "shape")]);
            }
            else y = l.Emit("Squeeze", [y, l.ConstI64(decrease, "decrease_axis")]);
        }
        return Results(l, ("Out", y));
    }

    private static IReadOnlyList<Value> ShuffleChannel(OpLowering l)
    {
        var x = Input(l, "X");
        var shape = Shape(x, "its input");
        long group = Int(l, "group", 1);
        if (shape.Count != 4 || shape.Skip(1).Any(d => d < 0)) throw Blocked("shuffle_channel needs a 4-D input with known C, H and W");
        long c = shape[1], h = shape[2], w = shape[3];
        if (group <= 0 || c % group != 0) throw Blocked($"group {group} does not divide {c} channels");
        var grouped = l.Emit("Reshape", [x, l.ConstI64([0, group, c / group, h, w], "grouped")]);
        var swapped = l.Transpose(grouped, [0, 2, 1, 3, 4]);
        return Results(l, ("Out", l.Emit("Reshape", [swapped, l.ConstI64([0, c, h, w], "shape")])));
    }

    /// <summary>
    /// gather: ONNX's Gather on <c>axis</c>. A 1-D index replaces the axis by its length, a 0-D one (Paddle 2.5 on) drops
    /// it, as in ONNX; an index of shape [N, 1] is taken as [N], as Paddle's GatherInferMeta does.
    /// </summary>
    private static IReadOnlyList<Value> Gather(OpLowering l)
    {
        if (Optional(l, "Axis") is not null) throw Blocked("its axis comes from the Axis input; only the axis attribute is lowered");
        var x = Input(l, "X");
        var index = Input(l, "Index");
        var indexShape = Shape(index, "its Index");
        if (indexShape.Count == 2 && indexShape[1] == 1) index = l.Emit("Reshape", [index, l.ConstI64([-1], "index_shape")]);
        else if (indexShape.Count > 1) throw Blocked($"its Index has rank {indexShape.Count}; Paddle's gather takes 0-D, 1-D or [N, 1]");
        return Results(l, ("Out", l.Emit("Gather", [x, index], [Attr("axis", Int(l, "axis", 0))])));
    }
}
