using System.Runtime.InteropServices;
using Mopt.Ir;

namespace Mopt.Backend.Runtime;

/// <summary>Seeded random inputs for a model: the same seed gives the same arrays on every machine.</summary>
public static class RandomInputs
{
    /// <summary>One array per input; symbolic dimensions become <paramref name="dynamicDim"/>.</summary>
    public static Dictionary<string, NpyArray> For(IEnumerable<(string Name, ElementType Element, long[] Shape)> inputs, int seed, long dynamicDim = 1)
    {
        var random = new Random(seed);
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        foreach (var (name, element, shape) in inputs)
        {
            var dims = shape.Select(d => d < 0 ? dynamicDim : d).ToArray();
            long n = dims.Aggregate(1L, (a, b) => a * b);
            result[name] = new NpyArray(element, dims, Fill(random, element, checked((int)n)));
        }
        return result;
    }

    private static byte[] Fill(Random random, ElementType element, int n)
    {
        var bytes = new byte[n * element.ByteSize];
        for (int i = 0; i < n; i++)
        {
            var slot = bytes.AsSpan(i * element.ByteSize, element.ByteSize);
            if (element.IsFloat) ElementCodec.WriteFloat(slot, element, Gaussian(random));
            else if (element.IsBool) slot[0] = (byte)random.Next(2);
            else ElementCodec.WriteInteger(slot, element, random.Next(0, 4)); // small non-negative: valid as indices too
        }
        return bytes;
    }

    private static double Gaussian(Random r)
    {
        double u1 = 1.0 - r.NextDouble(), u2 = r.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>The array's elements as doubles (for comparisons and statistics).</summary>
    public static double[] ToDoubles(NpyArray a)
    {
        var result = new double[a.ElementCount];
        int size = a.Element.ByteSize;
        if (a.Element == ElementType.F32)
        {
            var floats = MemoryMarshal.Cast<byte, float>(a.Data);
            for (int i = 0; i < result.Length; i++) result[i] = floats[i];
            return result;
        }
        for (int i = 0; i < result.Length; i++)
        {
            var slot = a.Data.AsSpan(i * size, size);
            result[i] = a.Element.IsFloat ? ElementCodec.ReadFloat(slot, a.Element) : ElementCodec.ReadInteger(slot, a.Element);
        }
        return result;
    }
}
