using Google.Protobuf;
using Mopt.Frontend.Paddle;
using Mopt.Onnx.Proto;
using Mopt.Tests.Onnx;
using static Mopt.Tests.Onnx.OnnxTestSupport;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Tests.Paddle;

/// <summary>
/// Each ONNX op convert-onnx-to-paddle lowers beyond the CNN set (HardSwish, HardSigmoid, Split, Cast, Shape,
/// ConstantOfShape, Gather, Resize, a computed Reshape, constant scalars): a one-op ONNX model written as Paddle holds
/// the Paddle ops expected, and read back and written as ONNX gives the original's outputs in ONNX Runtime (integers
/// exactly, floats within 1e-6). What Paddle cannot compute the ONNX way is an error naming each node.
/// </summary>
public sealed class OnnxToPaddleOpTests
{
    private sealed record Case(long Opset, NodeProto[] Nodes, (string Name, long[] Shape)[] Inputs, (string Name, DataType Type)[] Outputs, string[] PaddleOps, TensorProto[]? Initializers = null);

    private static TensorProto Int64s(string name, long[] dims, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(values);
        return t;
    }

    private static TensorProto Floats(string name, long[] dims, params float[] values) => FloatTensor(name, dims, values);

    private static NodeProto N(string op, string[] inputs, string[] outputs, params AttributeProto[] attrs) => Node(op, inputs, outputs, op + "_0", "", attrs);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["HardSwish"] = new(14, [N("HardSwish", ["x"], ["y"])], [("x", [2, 3, 4, 5])], [("y", DataType.Float)], ["hard_swish"]),
        ["HardSigmoid"] = new(14, [N("HardSigmoid", ["x"], ["y"], FloatAttr("alpha", 0.3f), FloatAttr("beta", 0.4f))], [("x", [2, 3, 4, 5])], [("y", DataType.Float)], ["hard_sigmoid"]),
        ["Split sections input (opset 13)"] = new(13, [N("Split", ["x", "s"], ["a", "b", "c"], IntAttr("axis", 1))], [("x", [2, 6, 3])],
            [("a", DataType.Float), ("b", DataType.Float), ("c", DataType.Float)], ["split"], [Int64s("s", [3], 2, 3, 1)]),
        ["Split attribute (opset 11)"] = new(11, [N("Split", ["x"], ["a", "b"], IntAttr("axis", -1), IntsAttr("split", 1, 2))], [("x", [2, 6, 3])],
            [("a", DataType.Float), ("b", DataType.Float)], ["split"]),
        ["Split equal parts"] = new(13, [N("Split", ["x"], ["a", "b", "c"], IntAttr("axis", 1))], [("x", [2, 6, 3])],
            [("a", DataType.Float), ("b", DataType.Float), ("c", DataType.Float)], ["split"]),
        ["Split num_outputs with a remainder (opset 18)"] = new(18, [N("Split", ["x"], ["a", "b", "c"], IntAttr("axis", 1), IntAttr("num_outputs", 3))], [("x", [2, 7, 3])],
            [("a", DataType.Float), ("b", DataType.Float), ("c", DataType.Float)], ["split"]),
        ["Cast to int32 (truncates)"] = new(13, [N("Cast", ["x"], ["y"], IntAttr("to", (long)DataType.Int32))], [("x", [2, 3, 4])], [("y", DataType.Int32)], ["cast"]),
        ["Cast to bool and back"] = new(13, [N("Cast", ["x"], ["b"], IntAttr("to", (long)DataType.Bool)), Node("Cast", ["b"], ["y"], "Cast_1", "", IntAttr("to", (long)DataType.Double))],
            [("x", [2, 3, 4])], [("y", DataType.Double)], ["cast"]),
        ["Shape"] = new(13, [N("Shape", ["x"], ["y"])], [("x", [2, 3, 4, 5])], [("y", DataType.Int64)], ["shape", "cast"]),
        ["Shape start/end (opset 15)"] = new(15, [N("Shape", ["x"], ["y"], IntAttr("start", 1), IntAttr("end", -1))], [("x", [2, 3, 4, 5])], [("y", DataType.Int64)], ["shape", "slice", "cast"]),
        ["ConstantOfShape, constant shape"] = new(13, [N("ConstantOfShape", ["s"], ["c"], TensorAttr("value", Floats("v", [1], 1.5f))), Node("Add", ["x", "c"], ["y"], "Add_0")],
            [("x", [2, 3])], [("y", DataType.Float)], ["fill_constant", "elementwise_add"], [Int64s("s", [2], 2, 3)]),
        ["ConstantOfShape of a computed shape"] = new(13, [N("Shape", ["x"], ["s"]), N("ConstantOfShape", ["s"], ["y"], TensorAttr("value", Int64s("v", [1], -7)))],
            [("x", [2, 3, 4])], [("y", DataType.Int64)], ["shape", "cast", "fill_constant"]),
        ["Gather, negative indices"] = new(13, [N("Gather", ["x", "i"], ["y"], IntAttr("axis", 1))], [("x", [2, 5, 3])], [("y", DataType.Float)], ["gather"], [Int64s("i", [3], -1, 0, 2)]),
        ["Gather, scalar index"] = new(13, [N("Gather", ["x", "i"], ["y"], IntAttr("axis", -1))], [("x", [2, 5, 3])], [("y", DataType.Float)], ["gather", "fill_constant"], [Int64s("i", [], 2)]),
        ["Gather, 2-D indices"] = new(13, [N("Gather", ["x", "i"], ["y"], IntAttr("axis", 0))], [("x", [4, 3])], [("y", DataType.Float)], ["gather", "reshape2"], [Int64s("i", [2, 2], 0, 3, 1, -4)]),
        ["Reshape to a computed shape"] = new(13,
            [N("Shape", ["x"], ["s"]), N("Gather", ["s", "i"], ["n"]), N("Unsqueeze", ["n", "zero"], ["n1"]), N("Concat", ["n1", "rest"], ["shape"], IntAttr("axis", 0)), N("Reshape", ["x", "shape"], ["y"])],
            [("x", [2, 3, 4])], [("y", DataType.Float)], ["shape", "gather", "unsqueeze2", "concat", "cast", "reshape2"], [Int64s("i", [], 0), Int64s("zero", [1], 0), Int64s("rest", [1], -1)]),
        ["constant scalar"] = new(13, [N("Mul", ["x", "k"], ["y"])], [("x", [2, 3])], [("y", DataType.Float)], ["fill_constant", "elementwise_mul"], [Floats("k", [], 0.1f)]),
        ["Resize nearest asymmetric floor, scales"] = new(13,
            [N("Resize", ["x", "", "scales"], ["y"], StringAttr("mode", "nearest"), StringAttr("coordinate_transformation_mode", "asymmetric"), StringAttr("nearest_mode", "floor"))],
            [("x", [1, 2, 3, 4])], [("y", DataType.Float)], ["nearest_interp_v2"], [Floats("scales", [4], 1, 1, 2, 3)]),
        ["Resize nearest asymmetric floor, downscale by sizes"] = new(13,
            [N("Resize", ["x", "", "", "sizes"], ["y"], StringAttr("mode", "nearest"), StringAttr("coordinate_transformation_mode", "asymmetric"), StringAttr("nearest_mode", "floor"))],
            [("x", [1, 2, 7, 9])], [("y", DataType.Float)], ["nearest_interp_v2"], [Int64s("sizes", [4], 1, 2, 3, 4)]),
        ["Resize nearest align_corners round_prefer_ceil"] = new(13,
            [N("Resize", ["x", "", "", "sizes"], ["y"], StringAttr("mode", "nearest"), StringAttr("coordinate_transformation_mode", "align_corners"), StringAttr("nearest_mode", "round_prefer_ceil"))],
            [("x", [1, 2, 3, 4])], [("y", DataType.Float)], ["nearest_interp_v2"], [Int64s("sizes", [4], 1, 2, 7, 5)]),
        ["Resize linear half_pixel, scales"] = new(13,
            [N("Resize", ["x", "", "scales"], ["y"], StringAttr("mode", "linear"))],
            [("x", [1, 2, 4, 5])], [("y", DataType.Float)], ["bilinear_interp_v2"], [Floats("scales", [4], 1, 1, 1.5f, 2)]),
        ["Resize linear pytorch_half_pixel, sizes"] = new(13,
            [N("Resize", ["x", "", "", "sizes"], ["y"], StringAttr("mode", "linear"), StringAttr("coordinate_transformation_mode", "pytorch_half_pixel"))],
            [("x", [1, 2, 4, 5])], [("y", DataType.Float)], ["bilinear_interp_v2"], [Int64s("sizes", [4], 1, 2, 6, 3)]),
        ["Resize linear asymmetric"] = new(13,
            [N("Resize", ["x", "", "scales"], ["y"], StringAttr("mode", "linear"), StringAttr("coordinate_transformation_mode", "asymmetric"))],
            [("x", [1, 2, 4, 5])], [("y", DataType.Float)], ["bilinear_interp_v2"], [Floats("scales", [4], 1, 1, 2, 0.5f)]),
        ["Resize linear align_corners, axes (opset 18)"] = new(18,
            [N("Resize", ["x", "", "", "sizes"], ["y"], StringAttr("mode", "linear"), StringAttr("coordinate_transformation_mode", "align_corners"), IntsAttr("axes", 2, 3))],
            [("x", [1, 2, 4, 5])], [("y", DataType.Float)], ["bilinear_interp_v2"], [Int64s("sizes", [2], 7, 3)]),
    };

    public static TheoryData<string> CaseNames() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void OnnxToPaddleToOnnxGivesTheSameOutputs(string name)
    {
        var c = Cases[name];
        using var dir = new TempDir();
        var original = dir.File("original.onnx");
        var inputs = c.Inputs.Select((i, k) => Vi(i.Name, DataType.Float, i.Shape.Cast<object?>().ToArray())).ToList();
        var graph = Graph("g", c.Nodes, inputs, c.Outputs.Select(o => Unshaped(o.Name, o.Type)), c.Initializers);
        Save(Model(graph, c.Opset), original);

        Opt(original, "-o", dir.File("m.pdmodel"));
        var types = PaddleModelFiles.Read(dir.File("m.pdmodel")).Program.Blocks[0].Ops.Select(o => o.Type).ToList();
        foreach (var op in c.PaddleOps) Assert.Contains(op, types);
        Opt(dir.File("m.pdmodel"), "-o", dir.File("back.onnx"));

        var feed = c.Inputs.Select((i, k) => (i.Name, new HostTensor((int)DataType.Float, i.Shape,
            PaddleLoweringCheck.Values(11 + k, i.Shape.Aggregate(1L, (a, d) => a * d), -4, 4).SelectMany(BitConverter.GetBytes).ToArray()))).ToList();
        var expected = Run(original, feed);
        var actual = Run(dir.File("back.onnx"), feed);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i].Value, actual[i].Value);
            Assert.Equal(e.DataType, a.DataType);
            Assert.Equal(e.Shape, a.Shape);
            if (e.DataType == (int)DataType.Float)
                Assert.True(MaxAbsDiff(e, a) <= 1e-6f, $"{name} output {i}: max |a-b| {MaxAbsDiff(e, a)}");
            else
                Assert.True(e.Bytes.AsSpan().SequenceEqual(a.Bytes), $"{name} output {i} differs");
        }
    }

    [Fact]
    public void WhatPaddleComputesOtherwiseIsNamedNodeByNode()
    {
        using var dir = new TempDir();
        var original = dir.File("original.onnx");
        NodeProto[] nodes =
        [
            Node("Resize", ["x", "", "double"], ["r1"], "cubic", "", StringAttr("mode", "cubic")),
            Node("Resize", ["x", "", "double"], ["r2"], "half_pixel_nearest", "", StringAttr("mode", "nearest")),
            Node("Resize", ["x", "", "scales"], ["r3"], "resizes_channels", "", StringAttr("mode", "nearest"), StringAttr("coordinate_transformation_mode", "asymmetric"), StringAttr("nearest_mode", "floor")),
            Node("Shape", ["x"], ["s"], "shape", ""),
            Node("Cast", ["s"], ["sf"], "to_float", "", IntAttr("to", (long)DataType.Float)),
            Node("Resize", ["x", "", "sf"], ["r4"], "computed_scales", "", StringAttr("mode", "nearest"), StringAttr("coordinate_transformation_mode", "asymmetric"), StringAttr("nearest_mode", "floor")),
            Node("ArgMax", ["x"], ["am"], "argmax", "", IntAttr("axis", 3)),
            Node("Gather", ["x", "am"], ["g"], "computed_index", "", IntAttr("axis", 0)),
            Node("Erf", ["x"], ["e"], "erf", ""),
        ];
        TensorProto[] initializers = [Floats("scales", [4], 1, 2, 2, 2), Floats("double", [4], 1, 1, 2, 2)];
        var graph = Graph("g", nodes, [Vi("x", DataType.Float, 1, 2, 3, 4)],
            new[] { "r1", "r2", "r3", "r4", "g", "e" }.Select(o => Unshaped(o, DataType.Float)), initializers);
        Save(Model(graph, 13), original);
        var output = dir.File("m.pdmodel");
        var (exit, _, stderr) = Mir.Opt([original, "-o", output]);
        Assert.Equal(1, exit);
        Assert.Contains("cannot write Paddle (6 nodes):", stderr);
        Assert.Contains("node 'cubic' (Resize): mode 'cubic': Paddle's interp_v2 ops lowered here are nearest and bilinear", stderr);
        Assert.Contains("node 'half_pixel_nearest' (Resize): nearest with coordinate_transformation_mode 'half_pixel' and nearest_mode 'round_prefer_floor'", stderr);
        Assert.Contains("node 'resizes_channels' (Resize): scales [1, 2, 2, 2] resize N or C", stderr);
        Assert.Contains("node 'computed_scales' (Resize): its scales are computed at run time", stderr);
        Assert.Contains("node 'computed_index' (Gather): its indices are not a constant", stderr);
        Assert.Contains("node 'erf' (Erf): no Paddle form for this op type", stderr);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(dir.File("m.pdiparams")));
    }

    private static ValueInfoProto Unshaped(string name, DataType type) =>
        new() { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type } } };

    private static void Opt(params string[] args)
    {
        var (exit, _, stderr) = Mir.Opt(args);
        Assert.True(exit == 0, $"mopt-opt {string.Join(" ", args)}: {stderr}");
    }
}
