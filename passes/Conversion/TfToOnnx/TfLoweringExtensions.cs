namespace Mopt.Passes.Conversion;

/// <summary>What only TensorFlow's lowerings ask of a node.</summary>
internal static class TfLoweringExtensions
{
    /// <summary>The data_format attribute: true for NHWC (TensorFlow's default), false for NCHW.</summary>
    public static bool ChannelsLast(this OpLowering l)
    {
        var format = l.Str("data_format", "NHWC");
        return format switch
        {
            "NHWC" => true,
            "NCHW" => false,
            _ => throw OpLowering.Blocked($"data_format '{format}' is not NHWC or NCHW"),
        };
    }
}
