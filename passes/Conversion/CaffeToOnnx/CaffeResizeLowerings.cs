namespace Mopt.Passes.Conversion;

/// <summary>Caffe's resizing layers: Upsample (also the Darknet-port form) and Interp.</summary>
internal static class CaffeResizeLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
    }
}
