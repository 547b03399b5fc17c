namespace Mopt.Passes.Conversion;

/// <summary>Caffe's layers that move data: Concat, Slice, Split, Flatten, Reshape, Permute, Crop, Upsample, Interp.</summary>
internal static class CaffeShapeLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
    }
}
