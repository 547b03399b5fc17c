using System.Buffers;

namespace Mopt.Grammar;

/// <summary>
/// A <c>"0x..."</c> string the lexer decoded on the fly. <see cref="Bytes"/> is null when the string is not
/// valid hex; <see cref="BadOffset"/> then points at the first offending character.
/// </summary>
public sealed record HexString(int Start, int Stop, byte[]? Bytes, long BadOffset, string? Problem);

/// <summary>Finds the end of a hex string and decodes it in one streaming pass, in reads of 16 KiB growing to 1 MiB.</summary>
public static class HexScanner
{
    private const int FirstRead = 16 << 10;
    private const int ChunkSize = 1 << 20;

    /// <summary>
    /// Scans the string whose opening quote is at <paramref name="quote"/> (hex digits start 3 bytes later).
    /// Returns null when an escape, a line break or the end of the file comes before the closing quote:
    /// then it is an ordinary string (or an unterminated one) for the normal lexer rule.
    /// </summary>
    public static HexString? Scan(SourceText source, int quote)
    {
        long pos = quote + 3;
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize + 1);
        int readSize = FirstRead; // most blobs are small (biases, norms): do not read a whole MiB for them
        var pieces = new List<(byte[] Buffer, int Length)>();
        long total = 0;
        long badOffset = -1;
        string? problem = null;
        int carry = 0; // an odd hex digit left over from the previous chunk sits at chunk[0]
        try
        {
            while (true)
            {
                int n = source.Read(pos, chunk.AsSpan(carry, readSize));
                readSize = Math.Min(ChunkSize, readSize * 4);
                if (n <= 0) return null;
                var span = chunk.AsSpan(carry, n);
                int end = span.IndexOfAny("\"\\\n\r"u8);
                var digits = chunk.AsSpan(0, carry + (end >= 0 ? end : n));
                if (badOffset < 0)
                {
                    int even = digits.Length & ~1;
                    var outBuf = ArrayPool<byte>.Shared.Rent(Math.Max(1, even / 2));
                    var status = Convert.FromHexString(digits[..even], outBuf.AsSpan(0, even / 2), out int consumed, out int written);
                    pieces.Add((outBuf, written));
                    total += written;
                    if (status != OperationStatus.Done)
                    {
                        int bad = consumed + (IsHex(digits[consumed]) ? 1 : 0);
                        badOffset = pos - carry + bad;
                        problem = $"'{(char)digits[bad]}' is not a hex digit";
                    }
                    else if (end < 0 && (digits.Length & 1) == 1)
                    {
                        chunk[0] = digits[^1];
                        carry = 1;
                        pos += n;
                        continue;
                    }
                    else if ((digits.Length & 1) == 1)
                    {
                        badOffset = pos - carry + digits.Length - 1;
                        problem = "the hex string has an odd number of digits";
                    }
                }
                if (end >= 0)
                {
                    if (span[end] != (byte)'"') return null;
                    long stop = pos + end;
                    return new HexString(quote, checked((int)stop), badOffset < 0 ? Join(pieces, total) : null, badOffset, problem);
                }
                carry = 0;
                pos += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            foreach (var (buffer, _) in pieces) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    private static byte[] Join(List<(byte[] Buffer, int Length)> pieces, long total)
    {
        var result = GC.AllocateUninitializedArray<byte>(checked((int)total));
        int at = 0;
        foreach (var (buffer, length) in pieces)
        {
            buffer.AsSpan(0, length).CopyTo(result.AsSpan(at));
            at += length;
        }
        return result;
    }
}
