using System.Buffers.Binary;
using System.Numerics;

namespace Mopt.Frontend.Tf.Checkpoints;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of LevelDB tables and TensorFlow's tensor bundles, through the runtime's
/// <see cref="BitOperations.Crc32C(uint, ulong)"/> (the SSE4.2/ARM instruction, or its software fallback), and the
/// masking both formats apply to a stored checksum.
/// </summary>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => Extend(0, data);

    /// <summary>The crc of the bytes the crc <paramref name="crc"/> was of, followed by <paramref name="data"/>.</summary>
    public static uint Extend(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        while (data.Length >= 8)
        {
            c = BitOperations.Crc32C(c, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (byte b in data) c = BitOperations.Crc32C(c, b);
        return ~c;
    }

    private const uint MaskDelta = 0xa282ead8;

    /// <summary>How a crc is stored (a crc of data that holds crcs would otherwise be weak): rotated right by 15, plus a constant.</summary>
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    public static uint Unmask(uint masked)
    {
        uint rot = masked - MaskDelta;
        return (rot >> 17) | (rot << 15);
    }
}
