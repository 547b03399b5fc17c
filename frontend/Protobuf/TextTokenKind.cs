namespace Mopt.Protobuf;

/// <summary>What <see cref="TextScanner"/> found: the token kinds of grammar/ProtoText.g4 the reader tells apart.</summary>
internal enum TextTokenKind
{
    /// <summary>The end of the text.</summary>
    End,
    Ident,
    Integer,
    Float,
    String,
    /// <summary>One of <c>: , ; { } &lt; &gt; [ ] / . -</c>.</summary>
    Punct,
    /// <summary>What the grammar's lexer makes an error token of: an unterminated string, a character of no token.</summary>
    Bad,
}
