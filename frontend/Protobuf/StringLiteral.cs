using System.Buffers;
using System.Text;

namespace Mopt.Protobuf;

/// <summary>
/// A quoted string of the text format into its bytes: C escapes (\n \t \\ \' \" \a \b \f \r \v \?, octal \ooo, hex \xHH,
/// \uXXXX and \UXXXXXXXX as UTF-8), other characters as their UTF-8.
/// </summary>
internal static class StringLiteral
{
    /// <summary>
    /// Appends the bytes of <paramref name="quoted"/> (with its quotes) to <paramref name="into"/>; on a bad escape returns
    /// its index in <paramref name="quoted"/> and why, else -1.
    /// </summary>
    public static int Decode(ReadOnlySpan<char> quoted, ArrayBufferWriter<byte> into, out string error)
    {
        error = "";
        int end = quoted.Length - 1; // the closing quote
        int i = 1;
        while (i < end)
        {
            int run = i;
            while (run < end && quoted[run] != '\\') run++;
            if (run > i)
            {
                var chars = quoted.Slice(i, run - i);
                int written = Encoding.UTF8.GetBytes(chars, into.GetSpan(Encoding.UTF8.GetMaxByteCount(chars.Length)));
                into.Advance(written);
                i = run;
                continue;
            }
            int at = i;
            char c = quoted[i + 1];
            i += 2;
            switch (c)
            {
                case 'n': Put(into, (byte)'\n'); break;
                case 't': Put(into, (byte)'\t'); break;
                case 'r': Put(into, (byte)'\r'); break;
                case '\\': Put(into, (byte)'\\'); break;
                case '\'': Put(into, (byte)'\''); break;
                case '"': Put(into, (byte)'"'); break;
                case '?': Put(into, (byte)'?'); break;
                case 'a': Put(into, 0x07); break;
                case 'b': Put(into, 0x08); break;
                case 'f': Put(into, 0x0C); break;
                case 'v': Put(into, 0x0B); break;
                case >= '0' and <= '7':
                {
                    int value = c - '0';
                    for (int k = 0; k < 2 && i < end && quoted[i] is >= '0' and <= '7'; k++, i++) value = value * 8 + (quoted[i] - '0');
                    if (value > 0xFF) { error = $"octal escape '{quoted[at..i].ToString()}' is over \\377 (a byte)"; return at; }
                    Put(into, (byte)value);
                    break;
                }
                case 'x' or 'X':
                {
                    int value = 0, digits = 0;
                    for (; digits < 2 && i < end && HexValue(quoted[i]) >= 0; digits++, i++) value = value * 16 + HexValue(quoted[i]);
                    if (digits == 0) { error = "'\\x' must be followed by hex digits"; return at; }
                    Put(into, (byte)value);
                    break;
                }
                case 'u' or 'U':
                {
                    int need = c == 'u' ? 4 : 8;
                    if (i + need > end) { error = $"'\\{c}' must be followed by {need} hex digits"; return at; }
                    long code = 0;
                    for (int k = 0; k < need; k++, i++)
                    {
                        int h = HexValue(quoted[i]);
                        if (h < 0) { error = $"'\\{c}' must be followed by {need} hex digits"; return at; }
                        code = code * 16 + h;
                    }
                    if (code > 0x10FFFF || code is >= 0xD800 and <= 0xDFFF)
                    {
                        error = $"'{quoted[at..i].ToString()}' is not a Unicode code point";
                        return at;
                    }
                    var rune = new Rune((int)code);
                    into.Advance(rune.EncodeToUtf8(into.GetSpan(4)));
                    break;
                }
                default:
                    error = $"invalid escape '\\{c}' in a string (the escapes are \\n \\t \\r \\\\ \\' \\\" \\a \\b \\f \\v \\?, \\ooo octal, \\xHH hex, \\uXXXX)";
                    return at;
            }
        }
        return -1;
    }

    private static void Put(ArrayBufferWriter<byte> into, byte b)
    {
        into.GetSpan(1)[0] = b;
        into.Advance(1);
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
