using System.Globalization;

namespace Mopt.Ir.Printing;

/// <summary>Prints numbers as MLIR does, so that a value survives print → parse exactly.</summary>
public static class FloatFormat
{
    /// <summary>
    /// <c>1.000000e-05</c> when six digits give the value back exactly (MLIR's own choice), else the shortest
    /// decimal that does, else the bits in hex (inf, nan).
    /// </summary>
    public static string Format(double value, ElementType type)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
            return "0x" + ElementCodec.BitsOf(type, value).ToString(type.BitWidth == 64 ? "X16" : type.BitWidth == 32 ? "X8" : "X4", CultureInfo.InvariantCulture);
        var six = value.ToString("0.000000e+00", CultureInfo.InvariantCulture);
        if (SameValue(six, value, type)) return six;
        for (int digits = 7; digits <= 17; digits++)
        {
            var s = value.ToString("E" + (digits - 1), CultureInfo.InvariantCulture);
            if (SameValue(s, value, type)) return Normalize(s);
        }
        return Normalize(value.ToString("R", CultureInfo.InvariantCulture));
    }

    private static bool SameValue(string text, double value, ElementType type)
    {
        double parsed = type == ElementType.F32
            ? float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)
            : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return ElementCodec.BitsOf(type, ElementCodec.RoundTo(type, parsed)) == ElementCodec.BitsOf(type, value);
    }

    /// <summary>MLIR's float literal needs a dot in the mantissa and a lower-case exponent: 1.2345678e-05.</summary>
    private static string Normalize(string s)
    {
        int e = s.IndexOfAny(['E', 'e']);
        string mantissa = e >= 0 ? s[..e] : s, exponent = e >= 0 ? s[(e + 1)..] : "";
        if (mantissa.Contains('.')) mantissa = mantissa.TrimEnd('0').TrimEnd('.') is var m && m.Contains('.') ? m : m + ".0";
        else mantissa += ".0";
        if (exponent.Length == 0) return mantissa;
        int exp = int.Parse(exponent, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return $"{mantissa}e{(exp < 0 ? "-" : "+")}{Math.Abs(exp):00}";
    }

    public static string FormatInteger(long value, ElementType type) =>
        type.Kind == ElementKind.UnsignedInt ? unchecked((ulong)value).ToString(CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture);
}
