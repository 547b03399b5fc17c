using Antlr4.Runtime;

namespace Mopt.Grammar;

/// <summary>
/// The lexer's one hand-written path: a <c>"0x..."</c> string (a blob or a dense hex constant) is found and
/// decoded by a vectorised scan instead of character by character, and its text is never materialised.
/// </summary>
public partial class MirLexer
{
    private readonly Dictionary<int, HexString> _hexStrings = new();

    /// <summary>The decoded hex strings, by the start index of their token.</summary>
    public IReadOnlyDictionary<int, HexString> HexStrings => _hexStrings;

    public override IToken NextToken()
    {
        if (InputStream is MirCharStream s && s.LA(1) == '"' && s.LA(2) == '0' && (s.LA(3) | 0x20) == 'x')
        {
            int start = s.Index;
            if (HexScanner.Scan(s.Source, start) is { } hex)
            {
                int line = Line, column = Column;
                var token = TokenFactory.Create(Tuple.Create<ITokenSource, ICharStream>(this, s), STRING, null,
                    TokenConstants.DefaultChannel, start, hex.Stop, line, column);
                s.Seek(hex.Stop + 1);
                Column = column + (hex.Stop + 1 - start);
                _hexStrings[start] = hex;
                Emit(token);
                return token;
            }
        }
        return base.NextToken();
    }
}
