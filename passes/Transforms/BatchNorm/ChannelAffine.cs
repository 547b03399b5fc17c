using Mopt.Ir;

namespace Mopt.Passes.BatchNorm;

/// <summary>
/// A per-channel affine map <c>y[c] = Scale[c] * x[c] + Shift[c]</c>: what an inference BatchNormalization, a
/// constant per-channel Mul or a constant per-channel Add computes. Values are doubles; they are rounded to the
/// tensor's element type only when written.
/// </summary>
internal sealed record ChannelAffine(double[] Scale, double[] Shift)
{
    public int Channels => Scale.Length;
    public bool HasShift => Shift.Any(v => v != 0);

    public static ChannelAffine Multiply(double[] s) => new(s, new double[s.Length]);
    public static ChannelAffine Offset(double[] t) => new(Enumerable.Repeat(1.0, t.Length).ToArray(), t);

    /// <summary>Both maps give the same numbers (compared as the doubles they are).</summary>
    public bool SameAs(ChannelAffine other) => Scale.AsSpan().SequenceEqual(other.Scale) && Shift.AsSpan().SequenceEqual(other.Shift);
}
