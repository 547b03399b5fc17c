using System.Runtime.InteropServices;
using Mopt.Caffe.Proto;
using Mopt.Ir;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// A layer's blobs: how many its type takes and of what shape (as Caffe's LayerSetUp checks them, so far as that can
/// be told without the input shapes), and each blob's shape and bytes. A blob in the legacy num/channels/height/width
/// form loses the leading 1s its layer does not have (an InnerProduct weight 1x1xNxK is NxK), as Caffe's LegacyShape does.
/// </summary>
internal static class CaffeBlobs
{
    /// <summary>A checked blob: its IR type and its values' little-endian bytes.</summary>
    public sealed record Blob(TensorType Type, ReadOnlyMemory<byte> Bytes);

    /// <summary>The blobs of <paramref name="layer"/> (type, parameters, bottoms from it; blobs from <paramref name="blobs"/>), checked.</summary>
    public static List<Blob> Read(CaffeLayer layer, IReadOnlyList<CaffeRawBlob> blobs, CaffeLayerWhat what)
    {
        var rule = Rule(layer);
        if (rule is { } r && blobs.Count != r.Ranks.Length)
            throw new MirException(blobs.Count == 0
                ? $"{what} has no blobs; a {layer.Type} layer like it takes {r.Ranks.Length}"
                : $"{what} has {Count(blobs.Count)}; a {layer.Type} layer like it takes {(r.Ranks.Length == 0 ? "none" : r.Ranks.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        var result = new List<Blob>(blobs.Count);
        // The checks read each blob's dims as ReadOne made them (the TensorType keeps its own copy).
        var shapes = rule is null || blobs.Count == 0 ? null : new List<long[]>(blobs.Count);
        for (int i = 0; i < blobs.Count; i++)
        {
            result.Add(ReadOne(blobs[i], rule is { } known ? known.Ranks[i] : -1, what, i, out var dims));
            shapes?.Add(dims);
        }
        if (shapes is not null) rule!.Check(shapes, what);
        return result;
    }

    private static string Count(int n) => n == 1 ? "1 blob" : $"{n} blobs";

    /// <summary>How many blobs a layer type takes and each one's rank (-1: any), with a check of their shapes.</summary>
    private sealed record BlobRule(int[] Ranks, Action<List<long[]>, CaffeLayerWhat> Check);

    private static void None(List<long[]> _, CaffeLayerWhat __) { }

    /// <summary>The rule of the many layer types that take no blobs, one object for them all.</summary>
    private static readonly BlobRule NoBlobs = new([], None);

    private static BlobRule? Rule(CaffeLayer layer)
    {
        switch (layer.Type)
        {
            case "Convolution" or "Deconvolution":
            {
                // The few numbers the checks need, read from the layer's bytes in one walk (defaults: caffe.proto's).
                var p = layer.Scalars(LayerParameter.ConvolutionParamFieldNumber, ConvolutionParameter.KernelSizeFieldNumber);
                var kernelSize = p.Repeated ?? [];
                uint? numOutput = (uint?)p[ConvolutionParameter.NumOutputFieldNumber];
                bool biasTerm = p.Bool(ConvolutionParameter.BiasTermFieldNumber, true);
                long group = p[ConvolutionParameter.GroupFieldNumber] is { } g ? (uint)g : 1;
                ulong? kernelH = p[ConvolutionParameter.KernelHFieldNumber], kernelW = p[ConvolutionParameter.KernelWFieldNumber];
                int spatial = kernelSize.Count > 1 ? kernelSize.Count : 2;
                long[]? kernel = null;
                if (kernelH is not null || kernelW is not null) kernel = [(uint)(kernelH ?? 0), (uint)(kernelW ?? 0)];
                else if (kernelSize.Count > 0)
                {
                    // kernel_size: one value for every spatial axis, or one value per axis
                    kernel = new long[spatial];
                    for (int i = 0; i < spatial; i++) kernel[i] = kernelSize[kernelSize.Count == 1 ? 0 : i];
                }
                bool deconv = layer.Type == "Deconvolution";
                return new BlobRule(biasTerm ? [spatial + 2, 1] : [spatial + 2], (shapes, what) =>
                {
                    var w = shapes[0];
                    long outputs = deconv ? w[1] * group : w[0];
                    if (numOutput is { } n && outputs != n)
                        throw new MirException($"{what}: the weight blob {Text(w)} has {outputs} outputs, num_output is {n}");
                    if (kernel is not null && !w.AsSpan(2).SequenceEqual(kernel))
                        throw new MirException($"{what}: the weight blob {Text(w)} does not have the kernel {string.Join("x", kernel)}");
                    if (shapes.Count > 1 && shapes[1][0] != outputs)
                        throw new MirException($"{what}: the bias blob {Text(shapes[1])} does not have the {outputs} outputs of the weight");
                });
            }
            case "InnerProduct":
            {
                var p = layer.Scalars(LayerParameter.InnerProductParamFieldNumber);
                uint? numOutput = (uint?)p[InnerProductParameter.NumOutputFieldNumber];
                bool biasTerm = p.Bool(InnerProductParameter.BiasTermFieldNumber, true);
                bool transpose = p.Bool(InnerProductParameter.TransposeFieldNumber, false);
                return new BlobRule(biasTerm ? [2, 1] : [2], (shapes, what) =>
                {
                    long outputs = transpose ? shapes[0][1] : shapes[0][0];
                    if (numOutput is { } n && outputs != n)
                        throw new MirException($"{what}: the weight blob {Text(shapes[0])} has {outputs} outputs, num_output is {n}");
                    if (shapes.Count > 1 && shapes[1][0] != outputs)
                        throw new MirException($"{what}: the bias blob {Text(shapes[1])} does not have the {outputs} outputs of the weight");
                });
            }
            case "Embed":
            {
                bool biasTerm = layer.Scalars(LayerParameter.EmbedParamFieldNumber).Bool(EmbedParameter.BiasTermFieldNumber, true);
                return new BlobRule(biasTerm ? [2, 1] : [2], None);
            }
            case "BatchNorm":
                return new BlobRule([1, 1, 1], (shapes, what) =>
                {
                    if (shapes[0][0] != shapes[1][0])
                        throw new MirException($"{what}: the mean {Text(shapes[0])} and variance {Text(shapes[1])} blobs differ in shape");
                    if (shapes[2][0] != 1)
                        throw new MirException($"{what}: the scale-factor blob {Text(shapes[2])} must hold one value");
                });
            case "Scale":
            {
                var p = layer.Scalars(LayerParameter.ScaleParamFieldNumber);
                int numAxes = p[ScaleParameter.NumAxesFieldNumber] is { } axes ? (int)axes : 1;
                bool biasTerm = p.Bool(ScaleParameter.BiasTermFieldNumber, false);
                int rank = numAxes < 0 ? -1 : numAxes;
                int[] ranks = layer.Bottom.Count > 1 ? (biasTerm ? [-1] : []) : (biasTerm ? [rank, rank] : [rank]);
                return new BlobRule(ranks, (shapes, what) =>
                {
                    if (shapes.Count == 2 && !shapes[0].SequenceEqual(shapes[1]))
                        throw new MirException($"{what}: the scale {Text(shapes[0])} and bias {Text(shapes[1])} blobs differ in shape");
                });
            }
            case "Bias":
            {
                int numAxes = layer.Scalars(LayerParameter.BiasParamFieldNumber)[BiasParameter.NumAxesFieldNumber] is { } axes ? (int)axes : 1;
                return new BlobRule(layer.Bottom.Count > 1 ? [] : [numAxes < 0 ? -1 : numAxes], None);
            }
            case "PReLU":
            {
                bool shared = layer.Scalars(LayerParameter.PreluParamFieldNumber).Bool(PReLUParameter.ChannelSharedFieldNumber, false);
                return new BlobRule([shared ? 0 : 1], None);
            }
            case "Normalize":
            {
                bool shared = layer.Scalars(LayerParameter.NormParamFieldNumber).Bool(NormalizeParameter.ChannelSharedFieldNumber, true);
                return new BlobRule([shared ? 0 : 1], None);
            }
            case "ReLU" or "ELU" or "Sigmoid" or "TanH" or "AbsVal" or "BNLL" or "Exp" or "Log" or "Power" or "Threshold" or "Clip"
                or "Swish" or "Pooling" or "LRN" or "MVN" or "Eltwise" or "Concat" or "Slice" or "Split" or "Flatten" or "Reshape"
                or "Permute" or "Softmax" or "Dropout" or "Crop" or "ArgMax" or "Reduction" or "Tile" or "PriorBox"
                or "DetectionOutput" or "Upsample" or "Interp" or "Input":
                return NoBlobs;
            default:
                return null;
        }
    }

    private static Blob ReadOne(CaffeRawBlob b, int rank, CaffeLayerWhat layer, int index, out long[] dims)
    {
        string what() => $"{layer}: blob {index}";
        if (b.Shape is { } shape) dims = shape;
        else
        {
            // The legacy 4-D form: drop the leading 1s the layer's blob does not have.
            dims = b.Legacy;
            int skip = 0;
            while (rank >= 0 && dims.Length - skip > rank && dims[skip] == 1) skip++;
            if (skip > 0) dims = dims[skip..];
        }
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw new MirException($"{what()}: shape {Text(dims)} has a negative dimension");
            count *= d;
        }
        if (rank >= 0 && dims.Length != rank)
            throw new MirException($"{what()}: shape {Text(dims)} has {dims.Length} dimensions, the layer's needs {rank}");
        bool isDouble = b.DoubleCount > 0 && b.FloatCount == 0;
        long have = isDouble ? b.DoubleCount : b.FloatCount;
        if (have != count)
            throw new MirException($"{what()}: it has {have} values, its shape {Text(dims)} needs {count}");
        return new Blob(new TensorType(isDouble ? ElementType.F64 : ElementType.F32, dims), isDouble ? b.Doubles : b.Floats);
    }

    public static string Text(long[] dims) => dims.Length == 0 ? "[]" : "[" + string.Join("x", dims) + "]";
}
