using Mopt.Ir;

namespace Mopt.Dialects.Paddle;

/// <summary>
/// <c>paddle.*</c>: Paddle's operators as a ProgramDesc has them (docs/formats/paddle.md): the op type as the op name
/// (<c>paddle.conv2d</c>), its attributes with their AttrTypes kept (INT <c>: i32</c>, LONG <c>: i64</c>, FLOAT <c>: f32</c>,
/// INTS <c>array&lt;i32: ...&gt;</c>, ...), its input slots' arguments as operands in slot-name order (<see cref="InputsAttr"/>
/// says how many each slot has), its output slots' as results (<see cref="OutputsAttr"/>); parameters are operands defined
/// by <c>onnx.Constant</c>s of their bytes. The ops listed here are defined (lazily) as pure, so that generic passes may
/// fold and remove them; any other op type imports too, as an op with effects that no pass removes.
/// </summary>
public static class PaddleDialect
{
    public const string Name = "paddle";

    /// <summary>The op's input slots and how many operands each has, in operand order: <c>{Bias = 0 : i32, Filter = 1 : i32, Input = 1 : i32}</c>.</summary>
    public const string InputsAttr = "paddle.inputs";

    /// <summary>The op's output slots and how many results each has, in result order.</summary>
    public const string OutputsAttr = "paddle.outputs";

    /// <summary>
    /// Output slots whose vars the program declares without a LoD level (Paddle sets it only where an op's InferShape
    /// shares the input's LoD: batch_norm's SavedMean has none, its Y has 0); kept so the writer declares them the same.
    /// </summary>
    public const string OutputsWithoutLodAttr = "paddle.outputs_without_lod";

    /// <summary>The operators mopt lowers (issue 14's set) and their spellings in other Paddle versions.</summary>
    private static readonly string[] Pure =
    [
        "conv2d", "depthwise_conv2d", "conv2d_transpose", "depthwise_conv2d_transpose", "batch_norm", "relu", "relu6",
        "leaky_relu", "hard_swish", "hard_sigmoid", "swish", "sigmoid", "tanh", "prelu", "elementwise_add",
        "elementwise_sub", "elementwise_mul", "elementwise_div", "elementwise_max", "elementwise_min", "elementwise_pow",
        "pool2d", "mul", "matmul", "matmul_v2", "fc", "softmax", "reshape", "reshape2", "transpose", "transpose2",
        "flatten", "flatten2", "flatten_contiguous_range", "squeeze", "squeeze2", "unsqueeze", "unsqueeze2", "concat",
        "split", "slice", "scale", "dropout", "shuffle_channel", "fill_constant", "shape", "cast", "bilinear_interp",
        "nearest_interp", "bilinear_interp_v2", "nearest_interp_v2", "arg_max", "exp", "sqrt", "abs", "reciprocal", "assign",
        "gather",
        // PIR programs' ops with a legacy twin that issue 14's set lacked (frontend/Paddle/Pir)
        "thresholded_relu", "equal",
    ];

    public static Dialect Dialect { get; } = new(Name, "Paddle operators as a ProgramDesc has them (__model__, .pdmodel)",
        Pure.Select(op => Name + "." + op), Define);

    private static OpDefinition Define(string name) => new(name)
    {
        OperandCounts = new CountRange(0, null),
        Results = [new SlotDefinition("out", Arity.Variadic)],
        Traits = OpTraits.Pure,
    };
}
