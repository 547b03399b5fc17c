namespace Mopt.Dialects.Paddle;

/// <summary>
/// The byte order of names' UTF-8 encodings, as flatbuffers compares keys (strcmp) in Paddle-Lite's .nb files,
/// without encoding: UTF-16 code units compare as UTF-8 bytes once surrogates (code points past U+FFFF) are moved
/// above U+E000..U+FFFF.
/// </summary>
public sealed class Utf8Order : IComparer<string>
{
    public static Utf8Order Instance { get; } = new();

    public int Compare(string? a, string? b)
    {
        if (a is null || b is null) return a is null ? b is null ? 0 : -1 : 1;
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
            if (a[i] != b[i]) return Rank(a[i]).CompareTo(Rank(b[i]));
        return a.Length.CompareTo(b.Length);
    }

    private static int Rank(char c) => c switch
    {
        >= '\uD800' and <= '\uDFFF' => c + 0x2000,
        >= '\uE000' => c - 0x800,
        _ => c,
    };
}
