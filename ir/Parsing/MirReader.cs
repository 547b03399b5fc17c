using Antlr4.Runtime;
using Antlr4.Runtime.Atn;
using Mopt.Grammar;

namespace Mopt.Ir.Parsing;

/// <summary>Reads .mir text (MLIR generic form) into a <see cref="MirModule"/> and verifies it.</summary>
public static class MirReader
{
    public static MirModule ParseFile(string path)
    {
        SourceText source;
        try { source = SourceText.FromFile(path); }
        catch (FileNotFoundException) { throw new MirException($"cannot read '{path}': file not found"); }
        catch (DirectoryNotFoundException) { throw new MirException($"cannot read '{path}': no such folder"); }
        catch (UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': permission denied"); }
        catch (IOException e) { throw new MirException($"cannot read '{path}': {e.Message}"); }
        using (source) return Parse(source);
    }

    public static MirModule ParseText(string text, string name = "<string>")
    {
        using var source = SourceText.FromString(name, text);
        return Parse(source);
    }

    public static MirModule Parse(SourceText source)
    {
        MirCharStream chars;
        try { chars = new MirCharStream(source); }
        catch (InvalidDataException e) { throw new MirException(e.Message); }

        var errors = new SyntaxErrorListener(source);
        var lexer = new MirLexer(chars);
        lexer.RemoveErrorListeners();
        var tokens = new CommonTokenStream(lexer);
        var parser = new MirParser(tokens) { BuildParseTree = true };
        parser.RemoveErrorListeners();
        parser.AddErrorListener(errors);
        // The grammar is LL(1) almost everywhere: SLL prediction is exact for it and much faster.
        parser.Interpreter.PredictionMode = PredictionMode.SLL;
        var tree = parser.mirFile();

        var module = new TreeToIr(source, chars, lexer.HexStrings).Convert(tree);
        try
        {
            Verifier.Verify(module);
        }
        catch (MirException e) when (e.Position is { } at && e.SourceLine is null)
        {
            throw new MirException(e.Message, at, source.LineAt(at.Offset));
        }
        return module;
    }

    /// <summary>A diagnostic at an offset of <paramref name="source"/>, with the line's text for the caret.</summary>
    internal static MirException ErrorAt(SourceText source, IToken token, string message, int extraColumns = 0) =>
        new(message, new SourcePosition(source.Name, token.Line, token.Column + 1 + extraColumns, token.StartIndex + extraColumns),
            source.LineAt(token.StartIndex));

    private sealed class SyntaxErrorListener(SourceText source) : BaseErrorListener
    {
        public override void SyntaxError(TextWriter output, IRecognizer recognizer, IToken offendingSymbol, int line,
            int charPositionInLine, string msg, RecognitionException e)
        {
            var parser = (Parser)recognizer;
            string expected = DescribeExpected(parser, e);
            string message = offendingSymbol.Type switch
            {
                TokenConstants.EOF => "unexpected end of file: the text is cut short or a bracket is never closed" + expected,
                MirLexer.UNEXPECTED_CHAR when offendingSymbol.Text == "\"" => "unterminated string: a string must close on the line it opens",
                MirLexer.UNEXPECTED_CHAR => $"unexpected character '{offendingSymbol.Text}'",
                _ => $"unexpected '{offendingSymbol.Text}'" + expected,
            };
            throw ErrorAt(source, offendingSymbol, message);
        }

        private static string DescribeExpected(Parser parser, RecognitionException? e)
        {
            Antlr4.Runtime.Misc.IntervalSet set;
            try { set = e?.GetExpectedTokens() ?? parser.GetExpectedTokens(); }
            catch (Exception) { return ""; }
            var names = set.ToList().Select(t => parser.Vocabulary.GetDisplayName(t)).Where(n => n is not null).ToList();
            if (names.Count == 0 || names.Count > 5) return "";
            return names.Count == 1 ? $", expected {Pretty(names[0])}" : $", expected one of {string.Join(", ", names.Select(Pretty))}";
        }

        private static string Pretty(string tokenName) => tokenName switch
        {
            "VALUE_ID" => "a value (%name)",
            "SYMBOL_ID" => "a symbol (@name)",
            "STRING" => "a string",
            "INTEGER" => "an integer",
            "BARE_ID" => "a name",
            "DIMS" => "a shape",
            "HASH_ID" => "an alias (#name)",
            "EOF" => "end of file",
            _ => tokenName,
        };
    }
}
