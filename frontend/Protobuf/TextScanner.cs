namespace Mopt.Protobuf;

/// <summary>
/// The tokens of grammar/ProtoText.g4's lexer, read straight from the text one at a time, with no token objects: the
/// reader's fast path. The rules are the grammar's (longest match, the first rule on a tie, whitespace and <c>#</c>
/// comments skipped); ProtoTextScannerTests checks the two lexers agree. What the grammar's lexer makes an error token of
/// (an unterminated string, a stray character) is <see cref="TextTokenKind.Bad"/>: the reader then lets the generated
/// parser report it.
/// </summary>
internal sealed class TextScanner(ReadOnlyMemory<char> text)
{
    public ReadOnlyMemory<char> Text { get; } = text;
    public TextTokenKind Kind { get; private set; }
    /// <summary>The current token's first character (an index into <see cref="Text"/>).</summary>
    public int Start { get; private set; }
    /// <summary>One past its last character.</summary>
    public int End { get; private set; }

    public ReadOnlySpan<char> Span => Text.Span.Slice(Start, End - Start);

    /// <summary>The current token's character when it is punctuation (asked of nearly every token: no look into the text).</summary>
    private char _punct;

    /// <summary>Whether the current token is the punctuation <paramref name="c"/>.</summary>
    public bool Is(char c) => Kind == TextTokenKind.Punct && _punct == c;

    /// <summary>Moves to the next token.</summary>
    public void Next()
    {
        var s = Text.Span;
        int i = End;
        while (i < s.Length)
        {
            char c = s[i];
            if (c is ' ' or '\t' or '\r' or '\n' or '\f' or '\v' or '\uFEFF') i++;
            else if (c == '#') { while (i < s.Length && s[i] is not ('\r' or '\n')) i++; }
            else break;
        }
        Start = i;
        if (i == s.Length) { Set(TextTokenKind.End, i); return; }
        char first = s[i];
        if (first is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_')
        {
            int j = i + 1;
            var identParts = IdentParts;
            while (j < s.Length && s[j] is var c && c < 128 && identParts[c] != 0) j++;
            Set(TextTokenKind.Ident, j);
        }
        else if (IsDigit(first) || first == '.' && i + 1 < s.Length && IsDigit(s[i + 1]))
        {
            Number(i);
        }
        else if (first is '"' or '\'')
        {
            int j = i + 1;
            while (true)
            {
                if (j >= s.Length || s[j] is '\r' or '\n') { Set(TextTokenKind.Bad, j); return; }
                char c = s[j];
                if (c == first) { Set(TextTokenKind.String, j + 1); return; }
                if (c == '\\')
                {
                    if (j + 1 >= s.Length || s[j + 1] is '\r' or '\n') { Set(TextTokenKind.Bad, j + 1); return; }
                    j += 2;
                }
                else j++;
            }
        }
        else if (first is ':' or ',' or ';' or '{' or '}' or '<' or '>' or '[' or ']' or '/' or '.' or '-')
        {
            _punct = first;
            Set(TextTokenKind.Punct, i + 1);
        }
        else
        {
            Set(TextTokenKind.Bad, i + 1);
        }
    }

    /// <summary>INTEGER or FLOAT at <paramref name="i"/>, whichever is longer (INTEGER on a tie, as the grammar orders them).</summary>
    private void Number(int i)
    {
        var s = Text.Span;
        // INTEGER : '0' [xX] HEX_DIGIT+ | DIGIT+
        int integer = -1;
        if (s[i] == '0' && i + 2 < s.Length && s[i + 1] is 'x' or 'X' && IsHex(s[i + 2]))
        {
            integer = i + 3;
            while (integer < s.Length && IsHex(s[integer])) integer++;
        }
        int digits = Digits(s, i);
        if (integer < 0 && digits > i) integer = digits;
        // FLOAT : (DIGIT+ '.' DIGIT* EXPONENT? | '.' DIGIT+ EXPONENT? | DIGIT+ EXPONENT) [fF]? | DIGIT+ [fF]
        int real = -1;
        if (digits < s.Length && s[digits] == '.')
        {
            int fraction = Digits(s, digits + 1);
            if (digits > i || fraction > digits + 1) real = Exponent(s, fraction);
        }
        else if (digits > i)
        {
            int exponent = Exponent(s, digits);
            if (exponent > digits) real = exponent;
            else if (digits < s.Length && s[digits] is 'f' or 'F') real = digits; // DIGIT+ [fF]: the suffix is added below
        }
        if (real >= 0 && real < s.Length && s[real] is 'f' or 'F') real++;
        if (real > integer) Set(TextTokenKind.Float, real);
        else Set(TextTokenKind.Integer, integer);
    }

    private static int Digits(ReadOnlySpan<char> s, int i)
    {
        while (i < s.Length && IsDigit(s[i])) i++;
        return i;
    }

    /// <summary>The end of <c>[eE] [+-]? DIGIT+</c> at <paramref name="i"/>, or <paramref name="i"/> when there is none.</summary>
    private static int Exponent(ReadOnlySpan<char> s, int i)
    {
        if (i >= s.Length || s[i] is not ('e' or 'E')) return i;
        int j = i + 1;
        if (j < s.Length && s[j] is '+' or '-') j++;
        int end = Digits(s, j);
        return end > j ? end : i;
    }

    private void Set(TextTokenKind kind, int end)
    {
        Kind = kind;
        End = end;
    }

    private static bool IsDigit(char c) => c is >= '0' and <= '9';
    private static bool IsHex(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f') or (>= 'A' and <= 'F');

    /// <summary>1 for the ASCII characters an identifier continues with (letters, digits, '_'): one load per character.</summary>
    private static ReadOnlySpan<byte> IdentParts =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    ];
}
