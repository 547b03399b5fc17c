using Mopt.Paddle.Proto;
using static Mopt.Tests.Paddle.PaddleLoweringCheck;
using A = Mopt.Tests.Paddle.PaddleTestProgram.A;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Paddle's gather (added with the ONNX → Paddle lowering of Gather) lowered to ONNX, against Paddle's kernel: out takes
/// x's entries index[i] along axis; a 1-D index replaces the axis by its length, an [N, 1] one too (GatherInferMeta), a
/// 0-D one drops it (Paddle 2.5 on). The index is a cast of a parameter, as an int64 var.
/// </summary>
public sealed class PaddleGatherLoweringTests
{
    private static PaddleTestProgram Gather(long[] indexDims, float[] index, int axis, long[] outDims) =>
        new PaddleTestProgram().Feed("x", [3, 4, 2]).Parameter("index_f", indexDims, index).Var("index", indexDims, element: VarType.Types.Type.Int64)
            .Var("y", outDims)
            .Add("cast", [("X", ["index_f"])], [("Out", ["index"])], A.Int("in_dtype", 5), A.Int("out_dtype", 3))
            .Add("gather", [("Index", ["index"]), ("X", ["x"])], [("Out", ["y"])], A.Int("axis", axis))
            .Fetch("y");

    /// <summary>Paddle's gather on a [3, 4, 2] input, row-major: the loop its CPU kernel runs.</summary>
    private static float[] Expected(float[] x, long[] index, int axis)
    {
        long[] dims = [3, 4, 2];
        long outer = dims.Take(axis).Aggregate(1L, (a, d) => a * d), inner = dims.Skip(axis + 1).Aggregate(1L, (a, d) => a * d);
        var result = new List<float>();
        for (long o = 0; o < outer; o++)
            foreach (var i in index)
                for (long k = 0; k < inner; k++)
                    result.Add(x[(o * dims[axis] + i) * inner + k]);
        return [.. result];
    }

    [Fact]
    public void GatherTakesEntriesAlongItsAxis()
    {
        var x = Values(21, 3 * 4 * 2);
        Close(Run(Gather([3], [3, 0, 3], 1, [3, 3, 2]), ("x", [3, 4, 2], x))["y"], [3, 3, 2], Expected(x, [3, 0, 3], 1));
        Close(Run(Gather([2], [2, 0], 0, [2, 4, 2]), ("x", [3, 4, 2], x))["y"], [2, 4, 2], Expected(x, [2, 0], 0));
    }

    [Fact]
    public void AnIndexOfShapeNx1IsOneDimensional()
    {
        var x = Values(22, 3 * 4 * 2);
        Close(Run(Gather([2, 1], [1, 1], 2, [3, 4, 2]), ("x", [3, 4, 2], x))["y"], [3, 4, 2], Expected(x, [1, 1], 2));
    }

    [Fact]
    public void AZeroDimensionalIndexDropsTheAxis()
    {
        var x = Values(23, 3 * 4 * 2);
        Close(Run(Gather([], [2], 1, [3, 2]), ("x", [3, 4, 2], x))["y"], [3, 2], Expected(x, [2], 1));
    }
}
