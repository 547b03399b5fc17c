namespace Mopt.Dialects.Onnx;

/// <summary>The parameters of an <c>onnx.Slice</c>, one entry per sliced axis (axes as written, maybe negative).</summary>
public sealed record SliceSpec(long[] Starts, long[] Ends, long[] Axes, long[] Steps);
