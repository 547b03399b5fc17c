using Mopt.Ir;

namespace Mopt.Dialects.Caffe;

/// <summary>
/// <c>caffe.*</c>: Caffe's layers as a NetParameter has them (docs/formats/caffe.md): the layer type as the op name, the
/// fields of its <c>*_param</c> message as attributes, its bottoms then its blobs as operands, its tops as results.
/// A layer's blobs (weights, BatchNorm's statistics) are operands defined by <c>onnx.Constant</c>s holding
/// <c>dense_resource</c> bytes, not attributes of the layer: fold-constants, dedupe-constants, the dead-weight sweep
/// and the rewriter already know those constants, so <c>--caffe-merge-bn</c> replaces a Convolution's weight operand
/// by a new constant and the lowering hands the same value to <c>onnx.Conv</c> unchanged; <c>caffe.blobs</c> says how
/// many of the trailing operands are blobs. Any layer type imports; those listed here are defined (lazily) so that
/// generic passes know which are pure and which (data, loss, accuracy, output layers) are not.
/// </summary>
public static class CaffeDialect
{
    public const string Name = "caffe";

    /// <summary>How many of an op's trailing operands are the layer's blobs (an integer; absent: none).</summary>
    public const string BlobsAttr = "caffe.blobs";

    /// <summary>The <c>*_param</c> message whose fields are the op's plain attributes (a string).</summary>
    public const string ParamAttr = "caffe.param_field";

    // Layer type → (least, most) operands counting the blobs; null most: any number. Each has one result unless listed in Multi.
    private static readonly Dictionary<string, (int Min, int? Max)> Pure = new(StringComparer.Ordinal)
    {
        ["Convolution"] = (2, 3), ["Deconvolution"] = (2, 3), ["InnerProduct"] = (2, 3), ["BatchNorm"] = (4, 4),
        ["Scale"] = (2, 3), ["Bias"] = (2, 2), ["ReLU"] = (1, 1), ["PReLU"] = (2, 2), ["ELU"] = (1, 1), ["Sigmoid"] = (1, 1),
        ["TanH"] = (1, 1), ["AbsVal"] = (1, 1), ["BNLL"] = (1, 1), ["Exp"] = (1, 1), ["Log"] = (1, 1), ["Power"] = (1, 1),
        ["Threshold"] = (1, 1), ["Clip"] = (1, 1), ["Swish"] = (1, 1), ["Pooling"] = (1, 1), ["LRN"] = (1, 1), ["MVN"] = (1, 1),
        ["Eltwise"] = (1, null), ["Concat"] = (1, null), ["Slice"] = (1, 1), ["Split"] = (1, 1), ["Flatten"] = (1, 1),
        ["Reshape"] = (1, 1), ["Permute"] = (1, 1), ["Softmax"] = (1, 1), ["Dropout"] = (1, 1), ["Crop"] = (2, 2),
        ["ArgMax"] = (1, 1), ["Reduction"] = (1, 1), ["Tile"] = (1, 1), ["Embed"] = (2, 3), ["Normalize"] = (2, 2),
        ["PriorBox"] = (2, 2), ["DetectionOutput"] = (3, 4), ["Upsample"] = (1, 2), ["Interp"] = (1, 2), ["Parameter"] = (1, 1),
    };

    /// <summary>Layers with any number of results (one per top).</summary>
    private static readonly string[] Multi = ["Slice", "Split"];

    /// <summary>Layers that read data or act on the world (data sources, losses, accuracy, output writers): never removed.</summary>
    private static readonly string[] Effects =
    [
        "Data", "ImageData", "HDF5Data", "HDF5Output", "MemoryData", "WindowData", "DummyData", "AnnotatedData", "VideoData",
        "Python", "Silence", "SoftmaxWithLoss", "EuclideanLoss", "SigmoidCrossEntropyLoss", "HingeLoss", "InfogainLoss",
        "MultinomialLogisticLoss", "ContrastiveLoss", "MultiBoxLoss", "Accuracy", "DetectionEvaluate",
    ];

    public static Dialect Dialect { get; } = new(Name, "Caffe layers as a NetParameter has them (prototxt and caffemodel)",
        Pure.Keys.Concat(Effects).Select(op => Name + "." + op), Define);

    private static OpDefinition Define(string name)
    {
        var op = name[(Name.Length + 1)..];
        if (!Pure.TryGetValue(op, out var count))
            return new OpDefinition(name) { OperandCounts = new CountRange(0, null), Traits = OpTraits.HasEffects };
        return new OpDefinition(name)
        {
            OperandCounts = new CountRange(count.Min, count.Max),
            Results = [new SlotDefinition("top", Multi.Contains(op) ? Arity.Variadic : Arity.Single)],
            Traits = OpTraits.Pure,
        };
    }
}
