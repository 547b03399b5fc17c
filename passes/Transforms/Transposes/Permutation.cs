using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>Permutations of axes (ONNX Transpose's <c>perm</c>: output axis k is input axis perm[k]) and of constant bytes.</summary>
internal static class Permutation
{
    public static bool IsIdentity(IReadOnlyList<long> perm)
    {
        for (int i = 0; i < perm.Count; i++) if (perm[i] != i) return false;
        return true;
    }

    public static bool IsValid(IReadOnlyList<long> perm) =>
        perm.All(p => p >= 0 && p < perm.Count) && perm.Distinct().Count() == perm.Count;

    /// <summary>q with q[perm[k]] = k: Transpose(Transpose(x, perm), q) = x.</summary>
    public static long[] Inverse(IReadOnlyList<long> perm)
    {
        var inverse = new long[perm.Count];
        for (int k = 0; k < perm.Count; k++) inverse[perm[k]] = k;
        return inverse;
    }

    /// <summary>The perm of Transpose(Transpose(x, inner), outer): composed[k] = inner[outer[k]].</summary>
    public static long[] Compose(IReadOnlyList<long> inner, IReadOnlyList<long> outer) => outer.Select(o => inner[(int)o]).ToArray();

    /// <summary>The shape of Transpose(x, perm) for x of <paramref name="shape"/>.</summary>
    public static long[] Apply(IReadOnlyList<long> shape, IReadOnlyList<long> perm) => perm.Select(p => shape[(int)p]).ToArray();

    /// <summary>
    /// The bytes of Transpose(x, perm) for a row-major x of <paramref name="shape"/> and <paramref name="elementSize"/>-byte
    /// elements: each element moved once, never read as a number.
    /// </summary>
    public static byte[] Bytes(ReadOnlySpan<byte> data, IReadOnlyList<long> shape, IReadOnlyList<long> perm, int elementSize)
    {
        int rank = shape.Count;
        var result = new byte[data.Length];
        if (rank == 0 || IsIdentity(perm)) { data.CopyTo(result); return result; }
        var inStrides = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--) { inStrides[d] = stride; stride *= shape[d]; }
        // The input stride of each output axis: the walk over the output is a strided copy.
        StridedCopy.Copy(data, result, elementSize, Apply(shape, perm), perm.Select(p => inStrides[p]).ToArray(), 0);
        return result;
    }
}
