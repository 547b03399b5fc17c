namespace Mopt.Passes.Conversion;

/// <summary>Caffe's SSD's Normalize, PriorBox and DetectionOutput.</summary>
internal static class CaffeDetectionLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
    }
}
