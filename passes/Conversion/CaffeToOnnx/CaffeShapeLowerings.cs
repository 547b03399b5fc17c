namespace Mopt.Passes.Conversion;

/// <summary>Caffe's layers that move data: Concat, Slice, Split, Flatten, Reshape, Permute, Crop.</summary>
internal static class CaffeShapeLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
    }
}
