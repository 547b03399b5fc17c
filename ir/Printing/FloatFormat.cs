using System.Globalization;
using System.Numerics;
using System.Text;

namespace Mopt.Ir.Printing;

/// <summary>
/// Prints numbers exactly as MLIR does (AsmPrinter's printFloatValue on top of LLVM's APFloat::toString), so mopt
/// and mlir-opt write the same text, and every form reads back to the same bits.
/// </summary>
public static class FloatFormat
{
    /// <summary>
    /// Six digits in exponent form (<c>1.000000e-05</c>) when they give the value back exactly; else the type's
    /// natural precision (<c>9.99999974E-6</c>, <c>0.899999976</c>) when that has a decimal point; else hex bits.
    /// </summary>
    public static string Format(double value, ElementType type)
    {
        if (double.IsFinite(value))
        {
            int precision = SemanticsPrecision(type);
            var six = ApFloatToString(value, precision, formatPrecision: 6, maxPadding: 0, truncateZero: false);
            if (ReadsBack(six, value, type)) return six;
            var natural = ApFloatToString(value, precision, formatPrecision: 0, maxPadding: 3, truncateZero: true);
            if (natural.Contains('.')) return natural;
        }
        return Hex(ElementCodec.BitsOf(type, value), type);
    }

    /// <summary>A float given by its bits: NaN and inf print as those exact bits.</summary>
    public static string FormatBits(ulong bits, ElementType type)
    {
        double value = ElementCodec.FloatFromBits(type, bits);
        return double.IsFinite(value) ? Format(value, type) : Hex(bits, type);
    }

    private static string Hex(ulong bits, ElementType type) =>
        "0x" + bits.ToString(type.BitWidth == 64 ? "X16" : type.BitWidth == 32 ? "X8" : "X4", CultureInfo.InvariantCulture);

    public static string FormatInteger(long value, ElementType type) =>
        type.Kind == ElementKind.UnsignedInt ? unchecked((ulong)value).ToString(CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture);

    private static int SemanticsPrecision(ElementType type) => type.Name switch { "f64" => 53, "f32" => 24, "f16" => 11, _ => 8 };

    private static bool ReadsBack(string text, double value, ElementType type)
    {
        double parsed = type.Name switch
        {
            "f32" => float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
            "f16" => (double)Half.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
            _ => ElementCodec.RoundTo(type, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)),
        };
        return ElementCodec.BitsOf(type, parsed) == ElementCodec.BitsOf(type, value);
    }

    /// <summary>A port of LLVM's IEEEFloat::toString for finite values (the value is exact in a double).</summary>
    private static string ApFloatToString(double value, int semanticsPrecision, int formatPrecision, int maxPadding, bool truncateZero)
    {
        var sb = new StringBuilder();
        if (double.IsNegative(value)) sb.Append('-');
        if (value == 0)
        {
            if (maxPadding != 0) return sb.Append('0').ToString();
            if (truncateZero) return sb.Append("0.0E+0").ToString();
            sb.Append("0.0");
            if (formatPrecision > 1) sb.Append('0', formatPrecision - 1);
            return sb.Append("e+00").ToString();
        }

        long bits = BitConverter.DoubleToInt64Bits(Math.Abs(value));
        int rawExp = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & ((1L << 52) - 1);
        BigInteger significand = rawExp == 0 ? fraction : fraction | (1L << 52);
        int exp = rawExp == 0 ? -1074 : rawExp - 1075;

        if (formatPrecision == 0) formatPrecision = 2 + semanticsPrecision * 59 / 196;

        int trailingZeros = (int)BigInteger.TrailingZeroCount(significand);
        significand >>= trailingZeros;
        exp += trailingZeros;
        if (exp > 0) { significand <<= exp; exp = 0; }
        else if (exp < 0) significand *= BigInteger.Pow(5, -exp); // N·2^-e == N·5^e·10^-e

        AdjustToPrecision(ref significand, ref exp, formatPrecision);

        var buffer = new List<char>(); // least significant digit first
        bool inTrail = true;
        while (!significand.IsZero)
        {
            significand = BigInteger.DivRem(significand, 10, out var digit);
            if (inTrail && digit.IsZero) exp++;
            else { buffer.Add((char)('0' + (int)digit)); inTrail = false; }
        }
        AdjustToPrecision(buffer, ref exp, formatPrecision);
        int n = buffer.Count;

        bool scientific;
        if (maxPadding == 0) scientific = true;
        else if (exp >= 0) scientific = exp > maxPadding || n + exp > formatPrecision;
        else
        {
            int msd = exp + n - 1;
            scientific = msd < 0 && -msd > maxPadding;
        }

        if (scientific)
        {
            exp += n - 1;
            sb.Append(buffer[n - 1]).Append('.');
            if (n == 1 && truncateZero) sb.Append('0');
            else for (int i = 1; i < n; i++) sb.Append(buffer[n - 1 - i]);
            if (!truncateZero && formatPrecision > n - 1) sb.Append('0', formatPrecision - n + 1);
            sb.Append(truncateZero ? 'E' : 'e').Append(exp >= 0 ? '+' : '-');
            var expDigits = Math.Abs(exp).ToString(CultureInfo.InvariantCulture);
            if (!truncateZero && expDigits.Length < 2) sb.Append('0');
            return sb.Append(expDigits).ToString();
        }
        if (exp >= 0)
        {
            for (int i = 0; i < n; i++) sb.Append(buffer[n - 1 - i]);
            return sb.Append('0', exp).ToString();
        }
        int whole = exp + n;
        int k = 0;
        if (whole > 0)
        {
            for (; k < whole; k++) sb.Append(buffer[n - 1 - k]);
            sb.Append('.');
        }
        else sb.Append("0.").Append('0', -whole);
        for (; k < n; k++) sb.Append(buffer[n - 1 - k]);
        return sb.ToString();
    }

    /// <summary>Drops decimal digits the requested precision cannot show, by truncating division (as LLVM does).</summary>
    private static void AdjustToPrecision(ref BigInteger significand, ref int exp, int formatPrecision)
    {
        long bits = (long)significand.GetBitLength();
        int bitsRequired = (formatPrecision * 196 + 58) / 59;
        if (bits <= bitsRequired) return;
        int tensRemovable = (int)((bits - bitsRequired) * 59 / 196);
        if (tensRemovable == 0) return;
        exp += tensRemovable;
        significand /= BigInteger.Pow(10, tensRemovable);
    }

    /// <summary>Rounds the digit buffer (least significant first) to the precision, half up.</summary>
    private static void AdjustToPrecision(List<char> buffer, ref int exp, int formatPrecision)
    {
        if (buffer.Count <= formatPrecision) return;
        int first = buffer.Count - formatPrecision;
        if (buffer[first - 1] < '5')
        {
            while (first < buffer.Count && buffer[first] == '0') first++;
            exp += first;
            buffer.RemoveRange(0, first);
            return;
        }
        for (int i = first; i < buffer.Count; i++)
        {
            if (buffer[i] == '9') first++;
            else { buffer[i]++; break; }
        }
        if (first == buffer.Count)
        {
            exp += first;
            buffer.Clear();
            buffer.Add('1');
            return;
        }
        exp += first;
        buffer.RemoveRange(0, first);
    }
}
