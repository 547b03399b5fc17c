using System.Text;

namespace Mopt.Ir;

/// <summary>
/// MLIR strings are byte sequences; mopt holds them as .NET strings. Bytes that are not valid UTF-8 are kept
/// as the lone surrogates U+DC80–U+DCFF (as Python's surrogateescape does), so every byte survives a round trip.
/// </summary>
public static class StringBytes
{
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out int consumed) == System.Buffers.OperationStatus.Done)
            {
                sb.Append(rune.ToString());
                bytes = bytes[consumed..];
            }
            else
            {
                sb.Append((char)(0xDC00 + bytes[0]));
                bytes = bytes[1..];
            }
        }
        return sb.ToString();
    }

    public static byte[] Encode(string text)
    {
        var result = new List<byte>(text.Length);
        Span<byte> buffer = stackalloc byte[4];
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is >= '\uDC80' and <= '\uDCFF' && (i == 0 || !char.IsHighSurrogate(text[i - 1])))
            {
                result.Add((byte)(c - 0xDC00));
                continue;
            }
            if (Rune.TryGetRuneAt(text, i, out var rune))
            {
                int n = rune.EncodeToUtf8(buffer);
                for (int k = 0; k < n; k++) result.Add(buffer[k]);
                if (rune.IsBmp) continue;
                i++;
                continue;
            }
            result.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
        }
        return result.ToArray();
    }
}
