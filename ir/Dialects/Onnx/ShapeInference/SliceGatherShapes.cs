using Mopt.Ir;
using static Mopt.Dialects.Onnx.ShapeInference.ShapeMath;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// Operators that pick, join or resize parts of tensors: Slice, Gather, GatherElements, GatherND, Scatter*,
/// Concat, Split, Pad, Resize, Upsample, TopK, OneHot, NonZero, NonMaxSuppression.
/// </summary>
internal static class SliceGatherShapes
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["onnx.Slice"] = Slice;
        rules["onnx.Gather"] = Gather;
        rules["onnx.GatherElements"] = GatherElements;
        rules["onnx.GatherND"] = GatherND;
        rules["onnx.ScatterND"] = ElementwiseShapes.SameAsInput;
        rules["onnx.ScatterElements"] = ElementwiseShapes.SameAsInput;
        rules["onnx.Scatter"] = ElementwiseShapes.SameAsInput;
        rules["onnx.Concat"] = Concat;
        rules["onnx.Split"] = Split;
        rules["onnx.Pad"] = Pad;
        rules["onnx.Resize"] = Resize;
        rules["onnx.Upsample"] = Upsample;
        rules["onnx.TopK"] = TopK;
        rules["onnx.OneHot"] = OneHot;
        rules["onnx.NonZero"] = (op, _) => One(ElementType.I64, [RankOf(op.Input(0)) ?? Dyn, Dyn]);
        rules["onnx.NonMaxSuppression"] = (_, _) => One(ElementType.I64, [Dyn, 3]);
    }

    /// <summary>
    /// starts/ends/axes/steps: inputs from opset 10, attributes (no steps) before. Per sliced axis, as the ONNX
    /// documentation says: a negative start or end has the dim added; then both are clamped to [0, dim] for a
    /// positive step and to [0, dim-1] (start) and [-1, dim-1] (end) for a negative one; the length is
    /// max(0, ceil((end - start) / step)).
    /// </summary>
    private static MirType?[]? Slice(Operation op, ShapeContext ctx)
    {
        var data = op.Input(0);
        var ds = ShapeOf(data);
        var element = ElemOf(data);
        if (ds is null) return [Tensor(element, null)];
        int rank = ds.Length;

        long[]? starts, ends, axes, steps;
        bool axesKnown;
        if (op.OperandCount > 1)
        {
            starts = op.Input(1) is { } s ? ctx.GetInts(s) : null;
            ends = op.Input(2) is { } e ? ctx.GetInts(e) : null;
            var axesInput = op.Input(3);
            axes = axesInput is null ? null : ctx.GetInts(axesInput);
            axesKnown = axesInput is null || axes is not null;
            var stepsInput = op.Input(4);
            steps = stepsInput is null ? null : ctx.GetInts(stepsInput);
            if (stepsInput is not null && steps is null) starts = null; // lengths unknown without the steps
        }
        else
        {
            if (!ctx.OpsetBelow(10)) return ctx.Unknown("Slice-10 and later take starts and ends as inputs");
            starts = op.Ints("starts");
            ends = op.Ints("ends");
            axes = op.Ints("axes");
            axesKnown = true;
            steps = null;
        }

        if (!axesKnown) return One(element, ds.Select(_ => Dyn).ToArray());
        if (starts is null || ends is null)
        {
            // Which axes are sliced is known; by how much is not.
            if (axes is null) return One(element, ds.Select(_ => Dyn).ToArray());
            var slicedAxes = axes.Select(a => Axis(a, rank, "axes value")).ToHashSet();
            return One(element, ds.Select((d, i) => slicedAxes.Contains(i) ? Dyn : d).ToArray());
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw new ShapeError($"starts, ends, axes and steps have different lengths ({starts.Length}, {ends.Length}, {axes.Length}, {steps.Length})");

        var shape = ds.ToArray();
        var seen = new HashSet<int>();
        for (int k = 0; k < starts.Length; k++)
        {
            int a = Axis(axes[k], rank, "axes value");
            if (!seen.Add(a)) throw new ShapeError($"axis {a} is sliced twice");
            if (steps[k] == 0) throw new ShapeError("a step is 0");
            shape[a] = ds[a] < 0 ? Dyn : ShapeMath.SliceLength(ds[a], starts[k], ends[k], steps[k]);
        }
        return One(element, shape);
    }

    /// <summary>data[:axis] + indices + data[axis+1:].</summary>
    private static MirType?[]? Gather(Operation op, ShapeContext ctx)
    {
        var data = op.Input(0);
        var ds = ShapeOf(data);
        var ids = ShapeOf(op.Input(1));
        if (ds is null || ids is null) return [Tensor(ElemOf(data), null)];
        int axis = Axis(op.Int("axis", 0), ds.Length);
        return One(ElemOf(data), [.. ds[..axis], .. ids, .. ds[(axis + 1)..]]);
    }

    private static MirType?[]? GatherElements(Operation op, ShapeContext ctx)
    {
        var data = op.Input(0);
        var ds = ShapeOf(data);
        var ids = ShapeOf(op.Input(1));
        if (ds is not null && ids is not null && ds.Length != ids.Length)
            throw new ShapeError($"data has rank {ds.Length} but indices has rank {ids.Length}");
        return One(ElemOf(data), ids);
    }

    /// <summary>indices[:-1] + data[batch_dims + indices[-1]:].</summary>
    private static MirType?[]? GatherND(Operation op, ShapeContext ctx)
    {
        var data = op.Input(0);
        var ds = ShapeOf(data);
        var ids = ShapeOf(op.Input(1));
        if (ds is null || ids is null || ids.Length == 0 || ids[^1] < 0) return [Tensor(ElemOf(data), null)];
        long batchDims = op.Int("batch_dims", 0);
        long from = batchDims + ids[^1];
        if (batchDims < 0 || from > ds.Length) throw new ShapeError($"indices address {ids[^1]} dims after {batchDims} batch dims of rank {ds.Length} data");
        return One(ElemOf(data), [.. ids[..^1], .. ds[(int)from..]]);
    }

    /// <summary>The inputs' dims, with the axis dims added up (axis: attribute, default 1 before opset 4).</summary>
    private static MirType?[]? Concat(Operation op, ShapeContext ctx)
    {
        var inputs = Enumerable.Range(0, op.OperandCount).Select(op.Input).Where(v => v is not null).ToArray();
        if (inputs.Length == 0) return ctx.Unknown("no inputs");
        var element = FirstElem(inputs);
        var ranked = inputs.Select(ShapeOf).Where(s => s is not null).ToArray();
        if (ranked.Length == 0) return [Tensor(element, null)];
        int rank = ranked[0]!.Length;
        if (ranked.Any(s => s!.Length != rank)) throw new ShapeError($"inputs have different ranks ({string.Join(", ", ranked.Select(s => s!.Length))})");
        long? axisAttr = op.GetInt("axis") ?? (ctx.OpsetKnownBelow(4) ? 1 : null);
        if (axisAttr is not long axisValue) return ctx.Unknown("no axis attribute");
        int axis = Axis(axisValue, rank);

        var shape = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            if (i == axis)
            {
                shape[i] = ranked.Length == inputs.Length ? ranked.Aggregate(0L, (sum, s) => Add(sum, s![i])) : Dyn;
                continue;
            }
            long dim = Dyn;
            foreach (var s in ranked) dim = MergeDim(dim, s![i], $"inputs differ in dim {i}");
            shape[i] = dim;
        }
        return One(element, shape);
    }

    /// <summary>
    /// Sizes along the axis: the split input (opset 13+) or attribute (before), else equal parts; from opset 18
    /// uneven parts are allowed, the last one smaller.
    /// </summary>
    private static MirType?[]? Split(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        var element = ElemOf(x);
        int outputs = op.Results.Count;
        if (xs is null) return All(op, Tensor(element, null));
        int axis = Axis(op.Int("axis", 0), xs.Length);
        long dim = xs[axis];

        long[]? sizes = null;
        bool sizesUnknown = false;
        if (op.Input(1) is { } splitInput)
        {
            sizes = ctx.GetInts(splitInput);
            sizesUnknown = sizes is null;
        }
        else if (op.Ints("split") is { } attr)
        {
            if (!ctx.OpsetBelow(13)) return ctx.Unknown("the split attribute is not part of Split-13 and later (split is an input there)");
            sizes = attr;
        }

        if (sizes is not null)
        {
            if (sizes.Length != outputs) throw new ShapeError($"split has {sizes.Length} sizes for {outputs} outputs");
            if (sizes.Any(s => s < 0)) throw new ShapeError("split sizes must not be negative");
            if (dim >= 0 && sizes.Sum() != dim) throw new ShapeError($"split sizes add up to {sizes.Sum()} but dim {axis} is {dim}");
        }
        else if (!sizesUnknown && dim >= 0)
        {
            long parts = op.GetInt("num_outputs") ?? outputs;
            if (parts != outputs) throw new ShapeError($"num_outputs is {parts} but the operation has {outputs} results");
            if (dim % parts == 0) sizes = Enumerable.Repeat(dim / parts, outputs).ToArray();
            else if (ctx.OpsetAtLeast(18))
            {
                long chunk = CeilDiv(dim, parts);
                long last = dim - chunk * (parts - 1);
                if (last <= 0) throw new ShapeError($"dim {axis} ({dim}) cannot be split into {parts} parts");
                sizes = Enumerable.Repeat(chunk, outputs - 1).Append(last).ToArray();
            }
            else throw new ShapeError($"dim {axis} ({dim}) cannot be split into {parts} equal parts");
        }

        var result = new MirType?[outputs];
        for (int k = 0; k < outputs; k++)
        {
            var shape = xs.ToArray();
            shape[axis] = sizes?[k] ?? Dyn;
            result[k] = Tensor(element, shape);
        }
        return result;
    }

    /// <summary>dim + pad_begin + pad_end per padded axis; pads is an input from opset 11 (axes from 18), an attribute before.</summary>
    private static MirType?[]? Pad(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        var element = ElemOf(x);
        if (xs is null) return [Tensor(element, null)];
        int rank = xs.Length;

        long[]? pads;
        long[]? axes = null;
        if (op.Input(1) is { } padsInput)
        {
            pads = ctx.GetInts(padsInput);
            if (op.Input(3) is { } axesInput)
            {
                axes = ctx.GetInts(axesInput);
                if (axes is null) return One(element, xs.Select(_ => Dyn).ToArray());
            }
        }
        else if ((op.Ints("pads") ?? op.Ints("paddings")) is { } attr)
        {
            if (!ctx.OpsetBelow(11)) return ctx.Unknown("the pads attribute is not part of Pad-11 and later (pads is an input there)");
            pads = attr;
        }
        else return ctx.Unknown("no pads");

        var padded = (axes ?? Enumerable.Range(0, rank).Select(i => (long)i)).Select(a => Axis(a, rank, "axes value")).ToArray();
        if (pads is null) return One(element, xs.Select((d, i) => padded.Contains(i) ? Dyn : d).ToArray());
        if (pads.Length != 2 * padded.Length) throw new ShapeError($"pads has {pads.Length} values for {padded.Length} axes (needs {2 * padded.Length})");
        var shape = xs.ToArray();
        for (int k = 0; k < padded.Length; k++)
        {
            int a = padded[k];
            if (xs[a] < 0) continue;
            long size = checked(xs[a] + pads[k] + pads[k + padded.Length]);
            if (size < 0) throw new ShapeError($"padding makes dim {a} negative ({size})");
            shape[a] = size;
        }
        return One(element, shape);
    }

    /// <summary>
    /// sizes when given, else floor(dim * scale) (computed in float32, as ONNX does). Resize-10 takes (X, scales);
    /// from opset 11 (X, roi, scales, sizes); from opset 18 the <c>axes</c> attribute says which dims they cover.
    /// </summary>
    private static MirType?[]? Resize(Operation op, ShapeContext ctx)
    {
        bool v10 = op.OperandCount == 2 && ctx.OpsetBelow(11);
        return Rescale(op, ctx, op.Input(v10 ? 1 : 2), null, v10 ? null : op.Input(3));
    }

    /// <summary>Upsample-7 (scales attribute) and Upsample-9 (scales input): floor(dim * scale).</summary>
    private static MirType?[]? Upsample(Operation op, ShapeContext ctx) =>
        Rescale(op, ctx, op.Input(1), op.Input(1) is null ? OnnxLegacy.UpsampleScales(op) : null, null);

    /// <summary>The common part of Resize and Upsample. An empty scales or sizes tensor stands for "not given".</summary>
    private static MirType?[]? Rescale(Operation op, ShapeContext ctx, Value? scalesInput, double[]? scalesAttr, Value? sizesInput)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        var element = ElemOf(x);
        double[]? scales = scalesAttr;
        bool hasScales = scalesAttr is not null;
        if (scalesInput is not null && ShapeOf(scalesInput) is not [0])
        {
            scales = ctx.GetFloats(scalesInput);
            if (scales is { Length: 0 }) scales = null;
            else hasScales = true;
        }
        long[]? sizes = null;
        bool hasSizes = false;
        if (sizesInput is not null && ShapeOf(sizesInput) is not [0])
        {
            sizes = ctx.GetInts(sizesInput);
            if (sizes is { Length: 0 }) sizes = null;
            else hasSizes = true;
        }

        var axesAttr = op.Ints("axes");
        int? rank = xs?.Length ?? (axesAttr is null ? (sizes?.Length ?? scales?.Length) : null);
        if (rank is not int r) return [Tensor(element, null)];
        var axes = (axesAttr ?? Enumerable.Range(0, r).Select(i => (long)i)).Select(a => Axis(a, r, "axes value")).ToArray();
        var shape = xs?.ToArray() ?? Enumerable.Repeat(Dyn, r).ToArray();

        if (sizes is not null)
        {
            if (sizes.Length != axes.Length) throw new ShapeError($"sizes has {sizes.Length} values for {axes.Length} axes");
            bool stretch = (op.GetString("keep_aspect_ratio_policy") ?? "stretch") == "stretch";
            for (int k = 0; k < axes.Length; k++) shape[axes[k]] = stretch ? sizes[k] : Dyn;
        }
        else if (scales is not null)
        {
            if (scales.Length != axes.Length) throw new ShapeError($"scales has {scales.Length} values for {axes.Length} axes");
            bool cropped = op.GetString("coordinate_transformation_mode") == "tf_crop_and_resize";
            for (int k = 0; k < axes.Length; k++)
            {
                long dim = shape[axes[k]];
                if (scales[k] <= 0) throw new ShapeError($"scale {scales[k]} is not positive");
                shape[axes[k]] = dim < 0 || cropped ? Dyn : checked((long)MathF.Floor(dim * (float)scales[k]));
            }
        }
        else if (hasScales || hasSizes)
        {
            foreach (var a in axes) shape[a] = Dyn;
        }
        else return ctx.Unknown("neither scales nor sizes");
        return One(element, shape);
    }

    /// <summary>Values and Indices: the input with dim <c>axis</c> = k (input from opset 10, attribute before).</summary>
    private static MirType?[]? TopK(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        long k = Dyn;
        if (op.Input(1) is { } kInput) k = ctx.GetInts(kInput) is [var kv] ? kv : Dyn;
        else if (op.GetInt("k") is long kAttr) k = kAttr;
        long[]? shape = null;
        if (xs is not null)
        {
            int axis = Axis(op.Int("axis", -1), xs.Length);
            if (k >= 0 && xs[axis] >= 0 && k > xs[axis]) throw new ShapeError($"k = {k} is larger than dim {axis} ({xs[axis]})");
            shape = xs.ToArray();
            shape[axis] = k;
        }
        var result = new MirType?[op.Results.Count];
        result[0] = Tensor(ElemOf(x), shape);
        if (result.Length > 1) result[1] = Tensor(ElementType.I64, shape);
        return result;
    }

    /// <summary>indices with a dim of size depth inserted at <c>axis</c>; the type of values.</summary>
    private static MirType?[]? OneHot(Operation op, ShapeContext ctx)
    {
        var ids = ShapeOf(op.Input(0));
        var element = ElemOf(op.Input(2));
        if (ids is null) return [Tensor(element, null)];
        long depth = op.Input(1) is { } d && ctx.GetFloats(d) is [var dv] ? checked((long)dv) : Dyn;
        int rank = ids.Length + 1;
        int axis = Axis(op.Int("axis", -1), rank);
        return One(element, [.. ids[..axis], depth, .. ids[axis..]]);
    }
}
