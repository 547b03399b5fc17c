using Mopt.Ir;
using static Mopt.Dialects.Onnx.ShapeInference.ShapeMath;

namespace Mopt.Dialects.Onnx.ShapeInference;

/// <summary>
/// ReduceMean, ReduceSum, ... and ArgMax/ArgMin. The reduced axes become 1 (keepdims=1, the default) or go away.
/// <c>axes</c> is an input from opset 13 for ReduceSum and from opset 18 for the others, an attribute before;
/// with no axes every axis is reduced, unless <c>noop_with_empty_axes</c> is set.
/// </summary>
internal static class ReductionShapes
{
    private static readonly string[] Reductions =
    [
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
        "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
    ];

    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        foreach (var name in Reductions) rules["onnx." + name] = Reduce;
        rules["onnx.ArgMax"] = ArgReduce;
        rules["onnx.ArgMin"] = ArgReduce;
    }

    private static MirType?[]? Reduce(Operation op, ShapeContext ctx)
    {
        var x = op.Input(0);
        var xs = ShapeOf(x);
        var element = ElemOf(x);
        bool keepDims = op.Int("keepdims", 1) != 0;
        int axesInputSince = op.OpType == "ReduceSum" ? 13 : 18;

        long[]? axes;
        if (op.Input(1) is { } axesInput)
        {
            axes = ctx.GetInts(axesInput);
            if (axes is null)
            {
                // Which axes is not known: with keepdims the rank stays and a dim of 1 stays 1.
                if (keepDims) return One(element, xs?.Select(d => d == 1 ? 1 : Dyn).ToArray());
                if (xs is not null && ShapeOf(axesInput) is [var n and >= 0])
                    return One(element, Enumerable.Repeat(Dyn, Math.Max(0, xs.Length - (int)n)).ToArray());
                return ctx.Unknown("axes is not a constant");
            }
        }
        else if (op.Ints("axes") is { } attrAxes)
        {
            if (!ctx.OpsetBelow(axesInputSince))
                return ctx.Unknown($"the axes attribute is not part of {op.OpType}-{axesInputSince} and later (axes is an input there)");
            axes = attrAxes;
        }
        else axes = null;

        if (axes is null || axes.Length == 0)
        {
            bool noop = op.Int("noop_with_empty_axes", 0) != 0;
            if (noop) return One(element, xs);
            if (xs is null) return keepDims ? ctx.Unknown("input has no rank") : One(element, []);
            return One(element, keepDims ? xs.Select(_ => 1L).ToArray() : []);
        }
        if (xs is null) return keepDims ? [Tensor(element, null)] : ctx.Unknown("input has no rank");
        var reduced = axes.Select(a => Axis(a, xs.Length, "axes value")).ToHashSet();
        return One(element, ReduceDims(xs, reduced, keepDims));
    }

    private static MirType?[]? ArgReduce(Operation op, ShapeContext ctx)
    {
        var xs = ShapeOf(op.Input(0));
        if (xs is null) return [Tensor(ElementType.I64, null)];
        bool keepDims = op.Int("keepdims", 1) != 0;
        int axis = Axis(op.Int("axis", 0), xs.Length);
        return One(ElementType.I64, ReduceDims(xs, [axis], keepDims));
    }

    private static long[] ReduceDims(long[] xs, HashSet<int> reduced, bool keepDims) =>
        xs.Select((d, i) => (d, i)).Where(p => keepDims || !reduced.Contains(p.i)).Select(p => reduced.Contains(p.i) ? 1 : p.d).ToArray();
}
