using Mopt.Ir;

namespace Mopt.Backend.Graphviz;

/// <summary>A pale fill by what an op does (Netron's families), from its type name, in any dialect.</summary>
internal static class OpCategory
{
    private const string Layer = "#dce8f7", Activation = "#f8dcdc", Pool = "#dcf0dc", Norm = "#ece0f4", Shape = "#f1ede0", Other = "#ffffff";

    private static readonly HashSet<string> Layers = new(StringComparer.OrdinalIgnoreCase)
        { "Gemm", "MatMul", "MatMulInteger", "QLinearMatMul", "InnerProduct", "FullyConnected", "fc", "matmul", "matmul_v2", "mul", "Einsum", "BatchMatMul", "BatchMatMulV2", "Embed", "lookup_table", "lookup_table_v2", "Deconvolution" };

    private static readonly HashSet<string> Activations = new(StringComparer.OrdinalIgnoreCase)
        { "Sigmoid", "Tanh", "TanH", "Clip", "Elu", "Selu", "Celu", "Softmax", "LogSoftmax", "Softplus", "Softsign", "HardSwish", "HardSigmoid", "hard_swish", "hard_sigmoid", "swish", "Swish", "Gelu", "Mish", "Relu6", "ThresholdedRelu", "BNLL", "AbsVal", "Threshold" };

    private static readonly HashSet<string> Shapes = new(StringComparer.OrdinalIgnoreCase)
        { "Reshape", "reshape2", "Flatten", "flatten2", "flatten_contiguous_range", "Transpose", "transpose2", "Permute", "Squeeze", "squeeze2", "Unsqueeze", "unsqueeze2", "Concat", "ConcatV2", "concat", "Split", "Slice", "StridedSlice", "Gather", "GatherV2", "GatherElements", "GatherND", "Shape", "Expand", "Tile", "Pad", "Cast", "Resize", "Upsample", "Interp", "nearest_interp", "bilinear_interp", "nearest_interp_v2", "bilinear_interp_v2", "Crop", "DepthToSpace", "SpaceToDepth", "ShuffleChannel", "Identity", "Dropout" };

    public static string Fill(Operation op)
    {
        var type = op.OpType;
        if (type.Contains("conv", StringComparison.OrdinalIgnoreCase) || type.Contains("Deconv", StringComparison.OrdinalIgnoreCase) || Layers.Contains(type)) return Layer;
        if (type.Contains("relu", StringComparison.OrdinalIgnoreCase) || Activations.Contains(type)) return Activation;
        if (type.Contains("pool", StringComparison.OrdinalIgnoreCase)) return Pool;
        if (type.Contains("norm", StringComparison.OrdinalIgnoreCase) || type is "LRN" or "lrn" or "Scale" or "affine_channel") return Norm;
        return Shapes.Contains(type) ? Shape : Other;
    }
}
