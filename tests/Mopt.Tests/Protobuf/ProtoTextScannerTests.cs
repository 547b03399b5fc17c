using Antlr4.Runtime;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mopt.Grammar;
using Mopt.Protobuf;

namespace Mopt.Tests.Protobuf;

/// <summary>
/// The reader's fast path against grammar/ProtoText.g4: its scanner makes the generated lexer's tokens, and it accepts
/// exactly the text the generated parser accepts (on written samples, real files and random mutations of both).
/// </summary>
public sealed class ProtoTextScannerTests
{
    /// <summary>Texts whose tokens are hard to tell apart: numbers next to names, exponents, suffixes, strings, comments.</summary>
    public static TheoryData<string> TrickyTexts => new()
    {
        "a: 1.5 b: 1. c: .5 d: 1e5 e: 1.5e-3 f: 1f g: 1.5F h: 0x1F i: 0X1f j: 017 k: 1e l: 1e+ m: 1.e5 n: 0x o: 0xg",
        "a:123abc b:1.2.3 c:-1 d: - 2 e:-inf f: nan g: 1e5f h: .5f i: 08.5 j: 1.5.e3",
        "s: \"a\\\"b\" 'c\\'d' \"e\\\\\" t: \"unterminated\n u: 'x\\\n v: \"ok\"",
        "# comment\nname: \"x\" # trailing\r\n\tnode < name: 'y' >; list: [1, 2 , 3], x { }",
        "\uFEFFa: \"\u00e9\u6f22\ud83d\ude00\" b: @ c: \ud83d\ude00 d: $ e: +1",
        "[type.googleapis.com/a.b.C] { } [x.y]: 1 a/b: c",
        "",
        "   \n\n  # only a comment",
        "a: 'x\\",
        "a: \"",
        "a: 0x1.5 b: 00 c: 0.0e-0f d: 9999999999999999999999",
    };

    [Theory]
    [MemberData(nameof(TrickyTexts))]
    public void TrickyTextsScanAsTheGrammarLexes(string text) => AssertSameTokens(text);

    [Fact]
    public void WrittenSamplesScanAsTheGrammarLexes()
    {
        foreach (var (_, message) in ProtoTextSamples.All()) AssertSameTokens(ProtoText.Format(message));
    }

    [Fact]
    public void RealPrototxtsScanAsTheGrammarLexes()
    {
        var files = RealTexts();
        if (files.Count == 0) return; // no ../shared/models: the written samples and random texts still run
        foreach (var path in files) AssertSameTokens(File.ReadAllText(path));
    }

    [Fact]
    public void RandomTextsScanAsTheGrammarLexes()
    {
        // The characters where the lexer's rules meet; seeded, so a failure repeats.
        string[] alphabet = [.. "0123456789.eExXfF-+abz_\"'\\ \t\n\r#:{}<>[],;/@\u00e9".Select(c => c.ToString()), "\ud83d\ude00"];
        var random = new Random(13);
        for (int n = 0; n < 4000; n++)
            AssertSameTokens(string.Concat(Enumerable.Range(0, random.Next(1, 24)).Select(_ => alphabet[random.Next(alphabet.Length)])));
    }

    [Fact]
    public void MutatedTextIsAcceptedExactlyWhenTheGrammarAcceptsIt()
    {
        var random = new Random(17);
        var texts = ProtoTextSamples.All().Select(s => (s.Message.Descriptor, Text: ProtoText.Format(s.Message))).ToList();
        const string inserts = "{}<>[]:,;-\"'#.0x1e f\n";
        int accepted = 0, refused = 0;
        for (int n = 0; n < 3000; n++)
        {
            var (descriptor, text) = texts[n % texts.Count];
            var chars = text.ToList();
            for (int k = random.Next(1, 3); k > 0 && chars.Count > 0; k--)
            {
                int at = random.Next(chars.Count);
                if (random.Next(2) == 0) chars.RemoveAt(at);
                else chars.Insert(at, inserts[random.Next(inserts.Length)]);
            }
            var mutated = new string([.. chars]);
            string? syntaxError = GrammarSyntaxError(mutated);
            try
            {
                ProtoText.Parse(descriptor, mutated, "m.pbtxt");
                Assert.True(syntaxError is null, $"accepted text the grammar refuses ({syntaxError}):\n{mutated}");
                accepted++;
            }
            catch (ProtoTextException e)
            {
                // A syntax error anywhere is the one reported, at the generated parser's place.
                if (syntaxError is not (null or "EOF")) Assert.Equal(syntaxError, $"{e.Line}:{e.Column}");
                refused++;
            }
        }
        Assert.True(accepted > 100 && refused > 100, $"{accepted} accepted, {refused} refused: the mutations should give both");
    }

    /// <summary>The generated parser's first syntax error as line:col (1-based), or null.</summary>
    private static string? GrammarSyntaxError(string text)
    {
        var lexer = new ProtoTextLexer(CharStreams.fromString(text));
        lexer.RemoveErrorListeners();
        var parser = new ProtoTextParser(new CommonTokenStream(lexer));
        parser.RemoveErrorListeners();
        var errors = new FirstError();
        parser.AddErrorListener(errors);
        parser.textMessage();
        return errors.At;
    }

    private sealed class FirstError : BaseErrorListener
    {
        public string? At { get; private set; }

        public override void SyntaxError(TextWriter output, IRecognizer recognizer, IToken offendingSymbol, int line, int charPositionInLine, string msg, RecognitionException e)
        {
            // An unclosed block is reported at its opening bracket (SyntaxErrorListener): compare only the others' places.
            At ??= offendingSymbol.Type == TokenConstants.EOF ? "EOF" : $"{line}:{charPositionInLine + 1}";
        }
    }

    private static List<string> RealTexts()
    {
        var dir = TestPaths.SharedModels;
        if (!Directory.Exists(dir)) return [];
        return [.. Directory.EnumerateFiles(dir, "*.*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".prototxt", StringComparison.Ordinal) || p.EndsWith(".pbtxt", StringComparison.Ordinal)).Order()];
    }

    /// <summary>The scanner's tokens equal the generated lexer's, up to and including the first error token.</summary>
    private static void AssertSameTokens(string text)
    {
        var lexer = new ProtoTextLexer(CharStreams.fromString(text));
        lexer.RemoveErrorListeners();
        var scanner = new TextScanner(text.AsMemory());
        var codePoints = CodePointIndex(text);
        while (true)
        {
            var token = lexer.NextToken();
            scanner.Next();
            var expected = Kind(token);
            Assert.True(expected == scanner.Kind, $"at code point {token.StartIndex} of {Show(text)}: the grammar's lexer makes {lexer.Vocabulary.GetDisplayName(token.Type)} '{token.Text}', the scanner {scanner.Kind} '{scanner.Span}'");
            if (expected == TextTokenKind.End) return;
            Assert.Equal(token.StartIndex, codePoints[scanner.Start]);
            if (expected == TextTokenKind.Bad) return;
            Assert.Equal(token.Text, scanner.Span.ToString());
        }
    }

    private static TextTokenKind Kind(IToken token) => token.Type switch
    {
        TokenConstants.EOF => TextTokenKind.End,
        ProtoTextLexer.IDENT => TextTokenKind.Ident,
        ProtoTextLexer.INTEGER => TextTokenKind.Integer,
        ProtoTextLexer.FLOAT => TextTokenKind.Float,
        ProtoTextLexer.STRING => TextTokenKind.String,
        ProtoTextLexer.UNTERMINATED_STRING or ProtoTextLexer.UNEXPECTED_CHAR => TextTokenKind.Bad,
        _ => TextTokenKind.Punct, // the grammar's literal tokens ':' '{' ...
    };

    /// <summary>For each UTF-16 index, its index in code points (the generated lexer counts code points).</summary>
    private static int[] CodePointIndex(string text)
    {
        var index = new int[text.Length + 1];
        int cp = 0;
        for (int i = 0; i < text.Length; i++)
        {
            index[i] = cp;
            if (!(char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))) cp++;
        }
        index[text.Length] = cp;
        return index;
    }

    private static string Show(string text) => text.Length > 200 ? $"\"{text[..200]}...\"" : $"\"{text}\"";
}
