namespace Mopt.Dialects.Onnx;

/// <summary>The bytes of chosen indices along one axis of a tensor, in order: what Gather folds to and what channel pruning keeps.</summary>
public static class AxisTake
{
    /// <summary>
    /// For each of the <paramref name="outer"/> blocks of <paramref name="dim"/> × <paramref name="chunk"/> bytes in
    /// <paramref name="src"/>, copies the chunks at <paramref name="indices"/> (each in [0, dim)) to <paramref name="dest"/>.
    /// </summary>
    public static void Copy(ReadOnlySpan<byte> src, long outer, long dim, int chunk, ReadOnlySpan<long> indices, Span<byte> dest)
    {
        int at = 0;
        for (long o = 0; o < outer; o++)
            foreach (var k in indices)
            {
                src.Slice(checked((int)((o * dim + k) * chunk)), chunk).CopyTo(dest.Slice(at, chunk));
                at += chunk;
            }
    }
}
