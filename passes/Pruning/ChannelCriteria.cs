using Mopt.Dialects.Onnx;
using Mopt.Ir;

namespace Mopt.Passes.Pruning;

/// <summary>
/// Ranks a Conv's output channels; the lowest scores go (PaddleSlim's criteria, computed in double):
/// <code>
/// l1_norm:          score[m] = sum over (c, k) of |W[m, c, k]|
/// geometry_median:  score[m] = sum over j of ||W[m] - W[j]||_2
/// bn_scale:         score[m] = |gamma[m]| of the BatchNormalization right after the Conv, or |s[m]| of the
///                   per-channel constant Mul right after it (a BatchNormalization folded into Mul, Add)
/// </code>
/// </summary>
internal static class ChannelCriteria
{
    public static readonly string[] Names = ["l1_norm", "geometry_median", "bn_scale"];

    /// <summary>The scores of <paramref name="conv"/>'s output channels, or null with the reason when the criterion has nothing to read.</summary>
    public static double[]? Score(Operation conv, MirModule module, string criterion, out string reason)
    {
        reason = "";
        var w = Constants.TryGet(conv.GetOperand(1), module)!;
        int channels = (int)w.Type.Shape![0];
        if (criterion == "bn_scale")
        {
            if (Scale(conv, module, channels) is { } scale) return scale;
            reason = "criterion bn_scale needs a BatchNormalization (or its folded per-channel Mul) right after the Conv";
            return null;
        }
        var values = w.ToFloats();
        int per = values.Length / channels;
        return criterion == "l1_norm" ? L1(values, channels, per) : GeometryMedian(values, channels, per);
    }

    /// <summary>|gamma| of the BatchNormalization reading the Conv, else |s| of a Mul by a per-channel constant s reading it.</summary>
    private static double[]? Scale(Operation conv, MirModule module, int channels)
    {
        var users = conv.Result.Users.ToList();
        var bn = users.FirstOrDefault(u => u.Name == "onnx.BatchNormalization" && u.OperandCount == 5 && u.GetOperand(0) == conv.Result);
        if (bn is not null && Constants.TryGet(bn.GetOperand(1), module) is { } gamma && gamma.ElementCount == channels)
            return gamma.ToFloats().Select(g => (double)Math.Abs(g)).ToArray();
        foreach (var mul in users.Where(u => u.Name == "onnx.Mul" && u.OperandCount == 2))
        {
            var other = mul.GetOperand(mul.GetOperand(0) == conv.Result ? 1 : 0);
            if (Constants.TryGet(other, module) is { Type.Shape: { } s } c && c.ElementCount == channels && IsChannelAxis(s, conv.Result))
                return c.ToFloats().Select(g => (double)Math.Abs(g)).ToArray();
        }
        return null;
    }

    /// <summary>Whether a constant of shape <paramref name="s"/> lines up with axis 1 of <paramref name="x"/> under broadcasting.</summary>
    private static bool IsChannelAxis(IReadOnlyList<long> s, Value x) =>
        x.Type is TensorType { IsRanked: true } t && s.Count <= t.Rank && s.Count - (t.Rank - 1) is var axis && axis >= 0 && s[axis] == t.Shape![1];

    private static double[] L1(float[] w, int channels, int per)
    {
        var s = new double[channels];
        for (int m = 0; m < channels; m++)
            for (int i = 0; i < per; i++) s[m] += Math.Abs((double)w[m * per + i]);
        return s;
    }

    private static double[] GeometryMedian(float[] w, int channels, int per)
    {
        var s = new double[channels];
        for (int m = 0; m < channels; m++)
            for (int j = m + 1; j < channels; j++)
            {
                double d = 0;
                for (int i = 0; i < per; i++) { double x = (double)w[m * per + i] - w[j * per + i]; d += x * x; }
                d = Math.Sqrt(d);
                s[m] += d;
                s[j] += d;
            }
        return s;
    }

    /// <summary>The channels to remove, ascending: the <paramref name="count"/> lowest scores (among equals the higher index goes first, so the lower index is kept).</summary>
    public static int[] Lowest(double[] scores, int count) =>
        Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ThenByDescending(i => i).Take(count).Order().ToArray();
}
