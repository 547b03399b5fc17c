using Mopt.Ir;
using static Mopt.Dialects.Onnx.ShapeInference.ShapeMath;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// Operators that move dims around or make shapes: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Expand, Tile,
/// DepthToSpace, SpaceToDepth, Shape, Size, ConstantOfShape, Range, Constant.
/// Operands that carry shapes (Reshape's shape, Squeeze's axes, ...) are read through
/// <see cref="ShapeContext.GetShapeValue"/>, so they may be constants or computed from other shapes.
/// </summary>
internal static class ShapeOpShapes
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["onnx.Reshape"] = Reshape;
        rules["onnx.Flatten"] = Flatten;
        rules["onnx.Transpose"] = Transpose;
        rules["onnx.Squeeze"] = Squeeze;
        rules["onnx.Unsqueeze"] = Unsqueeze;
        rules["onnx.Expand"] = Expand;
        rules["onnx.Tile"] = Tile;
        rules["onnx.DepthToSpace"] = (op, ctx) => SpaceDepth(op, ctx, toSpace: true);
        rules["onnx.SpaceToDepth"] = (op, ctx) => SpaceDepth(op, ctx, toSpace: false);
        rules["onnx.Shape"] = Shape;
        rules["onnx.Size"] = (_, _) => One(ElementType.I64, []);
        rules["onnx.ConstantOfShape"] = ConstantOfShape;
        rules["onnx.Range"] = Range;
        rules["onnx.Constant"] = (op, ctx) => ConstantValues.TypeOf(op) is { } t ? [t] : ctx.Unknown("no value attribute");
    }

    /// <summary>
    /// The new shape: 0 copies the input dim at that position (unless allowzero), one -1 takes what is left. The
    /// -1 is computed from the dims not accounted for on both sides: a dim copied by 0, or taken from
    /// <c>Shape</c> of the same input, cancels out even when it is dynamic.
    /// </summary>
    private static MirType?[]? Reshape(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        var element = ElemOf(x);
        ShapeValue? target;
        if (op.Input(1) is { } shapeInput)
        {
            target = ctx.GetShapeValue(shapeInput);
            if (target is null)
                return ShapeOf(shapeInput) is [var n and >= 0]
                    ? One(element, Enumerable.Repeat(Dyn, (int)n).ToArray())
                    : ctx.Unknown("the shape operand is not known");
        }
        else if (op.Ints("shape") is { } attr && ctx.OpsetBelow(5)) target = ShapeValue.Of(attr);
        else return ctx.Unknown("no shape operand");

        bool allowZero = op.Int("allowzero", 0) != 0;
        int rank = target.Count;
        var shape = new long[rank];
        var cancelledIn = new HashSet<int>();
        var cancelledOut = new HashSet<int>();
        int inferAt = -1;
        bool unknownElement = false;
        for (int j = 0; j < rank; j++)
        {
            var e = target.Elements[j];
            if (e.Exact)
            {
                long v = e.Value;
                if (v == -1)
                {
                    if (inferAt >= 0) throw new ShapeError("the shape has more than one -1");
                    inferAt = j;
                    shape[j] = Dyn;
                }
                else if (v == 0 && !allowZero)
                {
                    if (xs is null) { shape[j] = Dyn; unknownElement = true; continue; }
                    if (j >= xs.Length) throw new ShapeError($"shape[{j}] is 0 (copy the input dim) but the input has rank {xs.Length}");
                    shape[j] = xs[j];
                    if (cancelledIn.Add(j)) cancelledOut.Add(j);
                }
                else if (v < 0) throw new ShapeError($"shape[{j}] is {v}");
                else shape[j] = v;
            }
            else if (e.IsSymbol && ReferenceEquals(e.Source, x) && xs is not null && e.Index < xs.Length)
            {
                shape[j] = xs[e.Index];
                if (cancelledIn.Add(e.Index)) cancelledOut.Add(j);
                else unknownElement |= shape[j] < 0;
            }
            else
            {
                shape[j] = Dyn;
                unknownElement = true;
            }
        }
        if (allowZero && inferAt >= 0 && target.Elements.Any(e => e.Exact && e.Value == 0))
            throw new ShapeError("with allowzero=1 the shape cannot hold both 0 and -1");

        if (xs is not null && !unknownElement)
        {
            long inRest = Product(xs.Where((_, i) => !cancelledIn.Contains(i)));
            long outRest = Product(shape.Where((_, j) => j != inferAt && !cancelledOut.Contains(j)));
            if (inferAt >= 0)
            {
                if (inRest >= 0 && outRest > 0)
                {
                    if (inRest % outRest != 0)
                        throw new ShapeError($"cannot reshape {Format(xs)} to {target.Elements.Count} dims: {inRest} elements do not divide by {outRest}");
                    shape[inferAt] = inRest / outRest;
                }
            }
            else if (inRest >= 0 && outRest >= 0 && inRest != outRest)
                throw new ShapeError($"cannot reshape {Format(xs)} ({Product(xs)} elements) to {Format(shape)}");
        }
        return One(element, shape);
    }

    /// <summary>[prod(dims before axis), prod(dims from axis)].</summary>
    private static MirType?[]? Flatten(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        if (xs is null) return One(ElemOf(x), [Dyn, Dyn]);
        long axis = op.Int("axis", 1);
        if (axis < -xs.Length || axis > xs.Length) throw new ShapeError($"axis {axis} is out of range for rank {xs.Length}");
        int a = (int)(axis < 0 ? axis + xs.Length : axis);
        return One(ElemOf(x), [Product(xs[..a]), Product(xs[a..])]);
    }

    private static MirType?[]? Transpose(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        var perm = op.Ints("perm");
        if (xs is null)
            return perm is null ? [Tensor(ElemOf(x), null)] : One(ElemOf(x), perm.Select(_ => Dyn).ToArray());
        perm ??= Enumerable.Range(0, xs.Length).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != xs.Length || perm.Order().Where((p, i) => p != i).Any())
            throw new ShapeError($"perm [{string.Join(", ", perm)}] is not a permutation of the input's {xs.Length} dims");
        return One(ElemOf(x), perm.Select(p => xs[p]).ToArray());
    }

    /// <summary>Squeeze's or Unsqueeze's axes: the input from opset 13, the attribute before. Null with a reason when unknown.</summary>
    private static long[]? AxesOperand(Operation op, ShapeContext ctx, int inputSince, out bool present, out string? why)
    {
        why = null;
        present = true;
        if (op.Input(1) is { } input)
        {
            var axes = ctx.GetInts(input);
            if (axes is null) why = "axes is not a constant";
            return axes;
        }
        if (op.Ints("axes") is { } attr)
        {
            if (ctx.OpsetBelow(inputSince)) return attr;
            why = $"the axes attribute is not part of {op.OpType}-{inputSince} and later (axes is an input there)";
            return null;
        }
        present = false;
        return null;
    }

    private static MirType?[]? Squeeze(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        var element = ElemOf(x);
        var axes = AxesOperand(op, ctx, 13, out bool present, out var why);
        if (why is not null) return ctx.Unknown(why);
        if (xs is null) return [Tensor(element, null)];
        if (!present || axes is { Length: 0 })
        {
            // Every dim of 1 goes; a dynamic dim might be 1, so the rank is not known then.
            if (xs.Any(d => d < 0)) return [Tensor(element, null)];
            return One(element, xs.Where(d => d != 1).ToArray());
        }
        var removed = axes!.Select(a => Axis(a, xs.Length, "axes value")).ToHashSet();
        foreach (var a in removed)
            if (xs[a] >= 0 && xs[a] != 1) throw new ShapeError($"cannot squeeze dim {a} of {Format(xs)}: it is {xs[a]}, not 1");
        return One(element, xs.Where((_, i) => !removed.Contains(i)).ToArray());
    }

    private static MirType?[]? Unsqueeze(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        var element = ElemOf(x);
        var axes = AxesOperand(op, ctx, 13, out bool present, out var why);
        if (why is not null) return ctx.Unknown(why);
        if (!present) return ctx.Unknown("no axes");
        if (xs is null) return [Tensor(element, null)];
        int rank = xs.Length + axes!.Length;
        var inserted = axes.Select(a => Axis(a, rank, "axes value")).ToHashSet();
        if (inserted.Count != axes.Length) throw new ShapeError("axes has a repeated value");
        var shape = new long[rank];
        for (int i = 0, k = 0; i < rank; i++) shape[i] = inserted.Contains(i) ? 1 : xs[k++];
        return One(element, shape);
    }

    /// <summary>The input broadcast with the requested shape (numpy rules: the result can be larger than the request).</summary>
    private static MirType?[]? Expand(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var element = ElemOf(x);
        if (op.Input(1) is not { } shapeInput) return ctx.Unknown("no shape operand");
        long[]? requested = ctx.GetShapeValue(shapeInput) is { } sv
            ? sv.Elements.Select(e => e.Exact ? e.Value : Dyn).ToArray()
            : ShapeOf(shapeInput) is [var n and >= 0] ? Enumerable.Repeat(Dyn, (int)n).ToArray() : null;
        if (requested is null) return ctx.Unknown("the shape operand is not known");
        if (requested.Any(d => d < Dyn)) throw new ShapeError($"the shape {Format(requested)} has a negative dim");
        return One(element, Broadcast([ShapeOf(x), requested]));
    }

    private static MirType?[]? Tile(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        if (op.OperandCount > 2 || ctx.OpsetKnownBelow(6)) return ctx.Unknown("Tile-1 (tiles and axis inputs) is not supported");
        if (op.Input(1) is not { } repeatsInput) return ctx.Unknown("no repeats operand");
        var repeats = ctx.GetInts(repeatsInput);
        if (repeats is null)
        {
            if (xs is not null) return One(ElemOf(x), xs.Select(d => d == 0 ? 0 : Dyn).ToArray());
            return ShapeOf(repeatsInput) is [var n and >= 0] ? One(ElemOf(x), Enumerable.Repeat(Dyn, (int)n).ToArray()) : [Tensor(ElemOf(x), null)];
        }
        if (xs is null) return One(ElemOf(x), repeats.Select(r => r == 0 ? 0 : Dyn).ToArray());
        if (repeats.Length != xs.Length) throw new ShapeError($"repeats has {repeats.Length} values for rank {xs.Length}");
        if (repeats.Any(r => r < 0)) throw new ShapeError("repeats must not be negative");
        return One(ElemOf(x), xs.Select((d, i) => repeats[i] == 0 ? 0 : Mul(d, repeats[i])).ToArray());
    }

    /// <summary>DepthToSpace: [N, C/(b*b), H*b, W*b]; SpaceToDepth: [N, C*b*b, H/b, W/b].</summary>
    private static MirType?[]? SpaceDepth(Operation op, ShapeContext ctx, bool toSpace)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        if (op.GetInt("blocksize") is not long b || b <= 0) return ctx.Unknown("no positive blocksize");
        if (xs is null) return One(ElemOf(x), [Dyn, Dyn, Dyn, Dyn]);
        if (xs.Length != 4) throw new ShapeError($"input has rank {xs.Length}, needs 4");
        long bb = b * b;
        long Divide(long d, long by, string what)
        {
            if (d < 0) return Dyn;
            if (d % by != 0) throw new ShapeError($"{what} {d} is not a multiple of {by}");
            return d / by;
        }
        return toSpace
            ? One(ElemOf(x), [xs[0], Divide(xs[1], bb, "channels"), Mul(xs[2], b), Mul(xs[3], b)])
            : One(ElemOf(x), [xs[0], Mul(xs[1], bb), Divide(xs[2], b, "height"), Divide(xs[3], b, "width")]);
    }

    /// <summary>[rank] (or [end - start] with opset 15's start/end), int64.</summary>
    private static MirType?[]? Shape(Operation op, ShapeContext ctx)
    {
        if (RankOf(op.Input(0)) is not int rank) return One(ElementType.I64, [Dyn]);
        var (start, end) = ShapeRange(op, rank);
        return One(ElementType.I64, [Math.Max(0, end - start)]);
    }

    /// <summary>Shape-15's start and end, made non-negative and clamped to [0, rank].</summary>
    internal static (int Start, int End) ShapeRange(Operation op, int rank)
    {
        long Clamp(long v) => Math.Clamp(v < 0 ? v + rank : v, 0, rank);
        return ((int)Clamp(op.Int("start", 0)), (int)Clamp(op.Int("end", rank)));
    }

    private static MirType?[]? ConstantOfShape(Operation op, ShapeContext ctx)
    {
        var element = op.GetAttr("value") switch
        {
            DenseElementsAttr d => d.Type.Element,
            DenseResourceAttr r => r.Type.Element,
            _ => ElementType.F32,
        };
        if (op.Input(0) is not { } shapeInput) return ctx.Unknown("no shape operand");
        if (ctx.GetShapeValue(shapeInput) is { IsScalar: false } sv)
        {
            var shape = sv.Elements.Select(e => e.Exact ? e.Value : Dyn).ToArray();
            if (shape.Any(d => d < Dyn)) throw new ShapeError($"the shape {Format(shape)} has a negative dim");
            return One(element, shape);
        }
        if (ShapeOf(shapeInput) is [var n and >= 0]) return One(element, Enumerable.Repeat(Dyn, (int)n).ToArray());
        return [Tensor(element, null)];
    }

    /// <summary>[max(ceil((limit - start) / delta), 0)] of start's type.</summary>
    private static MirType?[]? Range(Operation op, ShapeContext ctx)
    {
        var start = op.Input(0);
        var limit = op.Input(1);
        var delta = op.Input(2);
        var element = FirstElem(start, limit, delta);
        if (start is null || limit is null || delta is null) return ctx.Unknown("needs start, limit and delta");
        if (ctx.GetFloats(start) is [var s] && ctx.GetFloats(limit) is [var l] && ctx.GetFloats(delta) is [var d])
        {
            if (d == 0) throw new ShapeError("delta is 0");
            // Computed in the element type, as a runtime does: float32 arithmetic for f32 (and f16/bf16).
            double count = element.IsFloat && element != ElementType.F64
                ? MathF.Ceiling(((float)l - (float)s) / (float)d)
                : Math.Ceiling((l - s) / d);
            return One(element, [count > 0 ? checked((long)count) : 0]);
        }
        return One(element, [Dyn]);
    }
}
