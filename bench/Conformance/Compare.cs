using System.Runtime.InteropServices;

namespace Mopt.Bench.Conformance;

/// <summary>ONNX's backend runner check: same type and shape, |a-b| &lt;= atol + rtol*|b| (NaN equals NaN).</summary>
public static class Compare
{
    public const double Rtol = 1e-3, Atol = 1e-7;

    /// <summary>Null when every output matches, else the first mismatch in words.</summary>
    public static string? Outputs(IReadOnlyList<HostValue> expected, IReadOnlyList<(string Name, HostValue Value)> actual)
    {
        if (actual.Count < expected.Count) return $"wrong outputs: {actual.Count} outputs, expected {expected.Count}";
        for (int i = 0; i < expected.Count; i++)
            if (One(expected[i], actual[i].Value) is { } why) return $"output '{actual[i].Name}': {why}";
        return null;
    }

    private static string? One(HostValue b, HostValue a)
    {
        if (!a.Shape.SequenceEqual(b.Shape)) return $"wrong shape: [{string.Join(",", a.Shape)}], expected [{string.Join(",", b.Shape)}]";
        if (a.ElemType != b.ElemType) return $"wrong type: element type {a.ElemType}, expected {b.ElemType}";
        if (b.Strings is not null)
            return a.Strings is not null && a.Strings.SequenceEqual(b.Strings) ? null : "wrong values: strings differ";
        var x = Values(a);
        var y = Values(b);
        if (x is null || y is null) return a.Bytes.AsSpan().SequenceEqual(b.Bytes) ? null : "wrong values: bytes differ";
        if (x.Length != y.Length) return $"wrong values: {x.Length} elements, expected {y.Length}";
        double maxDiff = 0;
        bool bad = false;
        for (int i = 0; i < x.Length; i++)
        {
            double p = x[i], q = y[i];
            if (double.IsNaN(p) && double.IsNaN(q)) continue;
            if (p == q) continue; // equal infinities too
            double d = Math.Abs(p - q);
            if (double.IsNaN(d) || d > Atol + Rtol * Math.Abs(q)) bad = true;
            if (!(d <= maxDiff)) maxDiff = d;
        }
        return bad ? $"wrong values: max |diff| {maxDiff:G3}" : null;
    }

    /// <summary>The elements as doubles, or null for a type compared byte for byte.</summary>
    private static double[]? Values(HostValue v)
    {
        var s = v.Bytes.AsSpan();
        return v.ElemType switch
        {
            1 => Convert(MemoryMarshal.Cast<byte, float>(s), f => f),
            2 => Convert(s, b => b),
            3 => Convert(MemoryMarshal.Cast<byte, sbyte>(s), b => b),
            4 => Convert(MemoryMarshal.Cast<byte, ushort>(s), b => b),
            5 => Convert(MemoryMarshal.Cast<byte, short>(s), b => b),
            6 => Convert(MemoryMarshal.Cast<byte, int>(s), b => b),
            7 => Convert(MemoryMarshal.Cast<byte, long>(s), b => b),
            9 => Convert(s, b => b != 0 ? 1 : 0),
            10 => Convert(MemoryMarshal.Cast<byte, Half>(s), h => (double)h),
            11 => MemoryMarshal.Cast<byte, double>(s).ToArray(),
            12 => Convert(MemoryMarshal.Cast<byte, uint>(s), b => b),
            13 => Convert(MemoryMarshal.Cast<byte, ulong>(s), b => b),
            16 => Convert(MemoryMarshal.Cast<byte, ushort>(s), b => BitConverter.Int32BitsToSingle(b << 16)),
            _ => null,
        };
    }

    private static double[] Convert<T>(ReadOnlySpan<T> s, Func<T, double> f)
    {
        var r = new double[s.Length];
        for (int i = 0; i < s.Length; i++) r[i] = f(s[i]);
        return r;
    }
}
