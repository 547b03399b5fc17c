namespace Mopt.Tests.Caffe;

/// <summary>Reproducible test inputs and weights (no xUnit: the Caffe benchmark links this file).</summary>
public static class SeededValues
{
    /// <summary><paramref name="count"/> values uniform in [<paramref name="low"/>, <paramref name="high"/>), the same for the same seed.</summary>
    public static float[] Uniform(int seed, int count, float low = -1, float high = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => low + (high - low) * (float)random.NextDouble()).ToArray();
    }
}
