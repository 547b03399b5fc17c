using Mopt.Ir;

namespace Mopt.Frontend.Paddle.Pir;

/// <summary>
/// The PIR ops mopt imports, each as its legacy twin so that --convert-paddle-to-onnx lowers it: argument order and
/// attribute names from Paddle's ops.yaml and inconsistent/static_ops.yaml, slot and attribute names of the legacy op
/// from op_compat.yaml (e.g. <c>add (elementwise_add)</c> with numpy broadcasting, i.e. <c>axis = -1</c>;
/// <c>matmul (matmul_v2)</c> with <c>transpose_x : trans_x</c>; <c>pool2d</c>'s IntArray <c>kernel_size : ksize</c>).
/// An inplace variant (<c>relu_</c>, <c>batch_norm_</c>) is its op. data, fetch, full, full_int_array, if, yield and the
/// builtin ops are the importer's own.
/// </summary>
public static class PirOps
{
    private static readonly NamedAttr AxisMinusOne = new("axis", new IntegerAttr(-1, ElementType.I32));

    private static PirOpMapping Unary(string legacy) => new(legacy, ["X"], ["Out"]);

    private static PirOpMapping Binary(string legacy) => new(legacy, ["X", "Y"], ["Out"]) { Extra = [AxisMinusOne] };

    private static readonly Dictionary<string, PirOpMapping> Table = new(StringComparer.Ordinal)
    {
        ["conv2d"] = new("conv2d", ["Input", "Filter"], ["Output"]),
        ["depthwise_conv2d"] = new("depthwise_conv2d", ["Input", "Filter"], ["Output"]),
        ["conv2d_transpose"] = new("conv2d_transpose", ["Input", "Filter"], ["Output"])
        { Mutable = [new("output_size", "output_size", PirAttrKind.Ints32)] },
        ["batch_norm"] = new("batch_norm", ["X", "Mean", "Variance", "Scale", "Bias"], ["Y", "MeanOut", "VarianceOut", "SavedMean", "SavedVariance", "ReserveSpace"])
        { Renames = [("data_format", "data_layout")] },
        ["relu"] = Unary("relu"),
        ["relu6"] = Unary("relu6"),
        ["sigmoid"] = Unary("sigmoid"),
        ["tanh"] = Unary("tanh"),
        ["exp"] = Unary("exp"),
        ["sqrt"] = Unary("sqrt"),
        ["abs"] = Unary("abs"),
        ["reciprocal"] = Unary("reciprocal"),
        ["assign"] = Unary("assign"),
        ["swish"] = Unary("swish"),
        ["hardswish"] = Unary("hard_swish"),
        ["hardsigmoid"] = Unary("hard_sigmoid"),
        ["leaky_relu"] = Unary("leaky_relu") with { Renames = [("negative_slope", "alpha")] },
        ["thresholded_relu"] = Unary("thresholded_relu"),
        ["softmax"] = Unary("softmax"),
        ["shuffle_channel"] = Unary("shuffle_channel"),
        ["prelu"] = new("prelu", ["X", "Alpha"], ["Out"]),
        ["add"] = Binary("elementwise_add"),
        ["subtract"] = Binary("elementwise_sub"),
        ["multiply"] = Binary("elementwise_mul"),
        ["divide"] = Binary("elementwise_div"),
        ["maximum"] = Binary("elementwise_max"),
        ["minimum"] = Binary("elementwise_min"),
        ["elementwise_pow"] = Binary("elementwise_pow"),
        ["equal"] = Binary("equal"),
        ["matmul"] = new("matmul_v2", ["X", "Y"], ["Out"]) { Renames = [("transpose_x", "trans_x"), ("transpose_y", "trans_y")] },
        ["legacy_matmul"] = new("matmul", ["X", "Y"], ["Out"]) { Renames = [("transpose_x", "transpose_X"), ("transpose_y", "transpose_Y")] },
        ["matmul_with_flatten"] = new("mul", ["X", "Y"], ["Out"]),
        ["fc"] = new("fc", ["Input", "W", "Bias"], ["Out"]),
        ["pool2d"] = new("pool2d", ["X"], ["Out"]) { Mutable = [new("kernel_size", "ksize", PirAttrKind.Ints32)] },
        ["reshape"] = new("reshape2", ["X"], ["Out", null]) { Mutable = [new("shape", "shape", PirAttrKind.Ints32, "Shape")] },
        ["transpose"] = new("transpose2", ["X"], ["Out"]) { Renames = [("perm", "axis")] },
        ["flatten"] = new("flatten_contiguous_range", ["X"], ["Out", null]),
        ["squeeze"] = new("squeeze2", ["X"], ["Out", null]) { Mutable = [new("axis", "axes", PirAttrKind.Ints32)] },
        ["unsqueeze"] = new("unsqueeze2", ["X"], ["Out", null]) { Mutable = [new("axis", "axes", PirAttrKind.Ints32, "AxesTensor")] },
        ["concat"] = new("concat", ["X"], ["Out"]) { Mutable = [new("axis", "axis", PirAttrKind.Int32, "AxisTensor")] },
        ["split"] = new("split", ["X"], ["Out"])
        {
            Mutable = [new("sections", "sections", PirAttrKind.Ints32), new("axis", "axis", PirAttrKind.Int32, "AxisTensor")],
            Extra = [new("num", new IntegerAttr(0, ElementType.I32))],
        },
        ["split_with_num"] = new("split", ["X"], ["Out"]) { Mutable = [new("axis", "axis", PirAttrKind.Int32, "AxisTensor")] },
        ["slice"] = new("slice", ["Input"], ["Out"])
        {
            Mutable = [new("starts", "starts", PirAttrKind.Ints32, "StartsTensor"), new("ends", "ends", PirAttrKind.Ints32, "EndsTensor")],
            AsInts32 = ["axes", "infer_flags", "decrease_axis"],
        },
        ["scale"] = new("scale", ["X"], ["Out"]) { Mutable = [new("scale", "scale", PirAttrKind.Float32, "ScaleTensor")] },
        ["dropout"] = new("dropout", ["X", "Seed"], ["Out", "Mask"])
        {
            Mutable = [new("p", "dropout_prob", PirAttrKind.Float32)],
            Renames = [("mode", "dropout_implementation")],
        },
        ["cast"] = new("cast", ["X"], ["Out"]) { Renames = [("dtype", "out_dtype")] },
        ["argmax"] = new("arg_max", ["X"], ["Out"]) { Mutable = [new("axis", "axis", PirAttrKind.Int64)] },
        ["shape"] = new("shape", ["Input"], ["Out"]),
        ["bilinear_interp"] = new("bilinear_interp_v2", ["X", "OutSize", "SizeTensor", "Scale"], ["Out"]) { Renames = [("data_format", "data_layout")] },
        ["nearest_interp"] = new("nearest_interp_v2", ["X", "OutSize", "SizeTensor", "Scale"], ["Out"]) { Renames = [("data_format", "data_layout")] },
    };

    /// <summary>The mapping of PIR op <paramref name="op"/> (without its dialect, <c>conv2d</c>), its inplace form's too; null when mopt has none.</summary>
    public static PirOpMapping? Find(string op) =>
        Table.GetValueOrDefault(op) ?? (op.EndsWith('_') ? Table.GetValueOrDefault(op[..^1]) : null);

    /// <summary>The PIR ops mapped here (for messages and docs).</summary>
    public static IEnumerable<string> Names => Table.Keys;
}
