namespace Mopt.Bench.Conformance;

/// <summary>A tensor on the host: ONNX element type, shape, little-endian bytes (or the strings of a string tensor).</summary>
public sealed record HostValue(int ElemType, long[] Shape, byte[] Bytes, string[]? Strings)
{
    public const int StringType = 8;
}
