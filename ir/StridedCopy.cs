namespace Mopt.Ir;

/// <summary>Moves tensor elements as bytes, never reading them as numbers: the one walk Transpose and Slice share.</summary>
public static class StridedCopy
{
    /// <summary>
    /// Fills <paramref name="destination"/> (row-major, <paramref name="outShape"/>) with the elements of
    /// <paramref name="source"/> at <paramref name="offset"/> + Σ index[d]·<paramref name="strides"/>[d] (in elements).
    /// </summary>
    public static void Copy(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize, long[] outShape, long[] strides, long offset)
    {
        int rank = outShape.Length;
        long n = 1;
        foreach (var d in outShape) n *= d;
        var index = new long[rank];
        long at = offset;
        for (long i = 0; i < n; i++)
        {
            source.Slice(checked((int)(at * elementSize)), elementSize).CopyTo(destination.Slice(checked((int)(i * elementSize)), elementSize));
            // Odometer: step the last axis, carrying into the ones before.
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d]++;
                at += strides[d];
                if (index[d] < outShape[d]) break;
                at -= strides[d] * index[d];
                index[d] = 0;
            }
        }
    }
}
