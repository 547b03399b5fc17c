using Mopt.Ir;

namespace Mopt.Dialects.Tf;

/// <summary>
/// <c>tf.*</c>: TensorFlow's ops as a GraphDef has them (the op type as the name, the node's attributes as they were; see
/// docs/formats/tensorflow.md). Any op type imports; the ones listed here are defined (lazily), so generic passes know
/// that <c>tf.Const</c> is a constant, which ops are pure and which act on the world.
/// </summary>
public static class TfDialect
{
    public const string Name = "tf";
    public const string ConstOp = "tf.Const";

    /// <summary>The type of a node's result: a GraphDef does not say it (the lowering infers it).</summary>
    public static readonly OpaqueType UnknownTensor = new("!tf.tensor");

    private static readonly string[] Pure =
    [
        "Const", "Identity", "IdentityN", "StopGradient", "Snapshot", "CheckNumerics", "PreventGradient",
        "Add", "AddV2", "AddN", "Sub", "Mul", "RealDiv", "Div", "FloorDiv", "Maximum", "Minimum", "Neg", "Square", "Sqrt",
        "Rsqrt", "Exp", "Log", "Abs", "Pow", "Tanh", "Sigmoid", "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Softplus",
        "Softmax", "LogSoftmax", "BiasAdd", "MatMul", "BatchMatMul", "BatchMatMulV2", "Conv2D", "DepthwiseConv2dNative",
        "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "BatchNormWithGlobalNormalization", "AvgPool", "MaxPool",
        "Mean", "Sum", "Max", "Min", "Prod", "ArgMax", "ArgMin", "Reshape", "Squeeze", "ExpandDims", "ConcatV2", "Concat",
        "Pack", "Unpack", "Pad", "PadV2", "MirrorPad", "StridedSlice", "Slice", "Split", "SplitV", "Transpose", "Shape",
        "Cast", "Fill", "ZerosLike", "OnesLike", "Tile", "GatherV2", "Gather", "Range", "Rank", "Size", "Equal", "Greater",
        "Less", "LogicalAnd", "LogicalOr", "LogicalNot", "Select", "SelectV2",
    ];

    /// <summary>Ops that act on the world or on state: never removed for being unused.</summary>
    private static readonly string[] Effects =
    [
        "Assert", "Print", "PrintV2", "Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice", "Assign",
        "AssignAdd", "AssignSub", "AssignVariableOp", "VariableV2", "Variable", "VarHandleOp", "ReadVariableOp", "NoOp",
    ];

    /// <summary>Random ops: removable when unused, never merged or folded.</summary>
    private static readonly string[] Random =
        ["RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt", "RandomShuffle", "Multinomial"];

    public static Dialect Dialect { get; } = new(Name, "TensorFlow ops as a GraphDef has them (frozen graphs)",
        Pure.Concat(Effects).Concat(Random).Select(op => Name + "." + op), Define);

    private static OpDefinition Define(string name)
    {
        var op = name[(Name.Length + 1)..];
        var def = new OpDefinition(name)
        {
            // Arities are not declared yet (the lowering checks what it reads); a Const takes none.
            OperandCounts = op == "Const" ? new CountRange(0, 0) : new CountRange(0, null),
            Traits = Effects.Contains(op) ? OpTraits.HasEffects : Random.Contains(op) ? OpTraits.NonDeterministic : OpTraits.Pure,
        };
        return op == "Const" ? def.WithTraits(OpTraits.ConstantLike).Implement<IConstantLike>(new ConstantValueAttribute("value")) : Folding.TfFolders.Attach(def);
    }
}
