namespace Mopt.Backend.Runtime;

/// <summary>How far one output is from its reference: the figures --verify-against prints.</summary>
public sealed record OutputDifference(string Name, double MaxAbsDiff, double MaxRelDiff, double? Top1Agreement, bool ShapesMatch)
{
    /// <summary>
    /// Max |a-b|; relative difference as max |a-b| / max(|reference|) over the tensor (robust to
    /// near-zero elements); top-1 agreement over the last axis when the output has a batch of rows.
    /// </summary>
    public static OutputDifference Compare(string name, NpyArray reference, NpyArray actual)
    {
        if (!reference.Shape.SequenceEqual(actual.Shape))
            return new OutputDifference(name, double.PositiveInfinity, double.PositiveInfinity, null, false);
        var r = RandomInputs.ToDoubles(reference);
        var a = RandomInputs.ToDoubles(actual);
        double maxAbs = 0, maxRef = 0;
        for (int i = 0; i < r.Length; i++)
        {
            double d = Math.Abs(r[i] - a[i]);
            if (double.IsNaN(d)) d = double.IsNaN(r[i]) && double.IsNaN(a[i]) ? 0 : double.PositiveInfinity;
            maxAbs = Math.Max(maxAbs, d);
            maxRef = Math.Max(maxRef, Math.Abs(r[i]));
        }
        double maxRel = maxAbs == 0 ? 0 : maxAbs / Math.Max(maxRef, 1e-30);

        double? top1 = null;
        if (reference.Shape.Length >= 1 && reference.Shape[^1] > 1 && reference.Element.IsFloat)
        {
            int classes = (int)reference.Shape[^1];
            int rows = r.Length / classes, agree = 0;
            for (int row = 0; row < rows; row++)
                if (ArgMax(r, row * classes, classes) == ArgMax(a, row * classes, classes)) agree++;
            top1 = rows == 0 ? null : (double)agree / rows;
        }
        return new OutputDifference(name, maxAbs, maxRel, top1, true);
    }

    private static int ArgMax(double[] v, int start, int count)
    {
        int best = 0;
        for (int i = 1; i < count; i++) if (v[start + i] > v[start + best]) best = i;
        return best;
    }
}
