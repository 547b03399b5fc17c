namespace Mopt.Tests;

/// <summary>Bytes that differ from test to test and repeat from run to run: the seed picks them.</summary>
public static class RandomBytes
{
    public static byte[] Of(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
