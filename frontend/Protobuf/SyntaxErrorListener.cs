using Antlr4.Runtime;
using Mopt.Grammar;

namespace Mopt.Protobuf;

/// <summary>Turns the parser's first syntax error into a <see cref="ProtoTextException"/> that says what was expected.</summary>
internal sealed class SyntaxErrorListener(TextSource source) : BaseErrorListener
{
    public override void SyntaxError(TextWriter output, IRecognizer recognizer, IToken offendingSymbol, int line,
        int charPositionInLine, string msg, RecognitionException e)
    {
        var parser = (Parser)recognizer;
        if (offendingSymbol.Type == TokenConstants.EOF && OpenBracket(parser.Context) is { } open)
            throw source.ErrorAt(open, $"'{open.Text}' is never closed: the text ends before its '{Closer(open.Text)}'");
        string message = offendingSymbol.Type switch
        {
            TokenConstants.EOF => "unexpected end of text" + Expected(parser, e),
            ProtoTextLexer.UNTERMINATED_STRING => "unterminated string: a string must close on the line it opens",
            ProtoTextLexer.UNEXPECTED_CHAR => $"unexpected character '{offendingSymbol.Text}'",
            _ => $"unexpected '{offendingSymbol.Text}'" + Expected(parser, e),
        };
        throw source.ErrorAt(offendingSymbol, message);
    }

    /// <summary>The innermost '{', '&lt;' or '[' still open where the text ended.</summary>
    private static IToken? OpenBracket(RuleContext? context)
    {
        for (var c = context; c is not null; c = c.Parent)
        {
            if (c is ProtoTextParser.BlockContext block) return block.open;
            if (c is ProtoTextParser.ListContext list) return list.Start;
        }
        return null;
    }

    private static string Closer(string open) => open switch { "{" => "}", "<" => ">", _ => "]" };

    private static string Expected(Parser parser, RecognitionException? e)
    {
        Antlr4.Runtime.Misc.IntervalSet set;
        try { set = e?.GetExpectedTokens() ?? parser.GetExpectedTokens(); }
        catch (Exception) { return ""; }
        var names = set.ToList().Select(t => Pretty(parser.Vocabulary.GetDisplayName(t))).Distinct().ToList();
        if (names.Contains("a string") && names.Contains("a number") && names.Contains("'{'")) return ", expected a value";
        if (names.Count == 0 || names.Count > 6) return "";
        return names.Count == 1 ? $", expected {names[0]}" : $", expected one of {string.Join(", ", names)}";
    }

    private static string Pretty(string tokenName) => tokenName switch
    {
        "IDENT" => "a name",
        "INTEGER" or "FLOAT" => "a number",
        "STRING" => "a string",
        "EOF" => "end of text",
        _ => tokenName,
    };
}
