using Antlr4.Runtime;

namespace Mopt.Protobuf;

/// <summary>The text being read and its name: turns a token (and a place inside it) into a <see cref="ProtoTextException"/>.</summary>
internal sealed class TextSource(string name, ReadOnlyMemory<char> text)
{
    public string Name { get; } = name;
    /// <summary>The text, lent for the read (a pooled buffer's: what outlives it is copied out, as an error's line).</summary>
    public ReadOnlyMemory<char> Text { get; } = text;

    /// <summary>An error at <paramref name="token"/>, or <paramref name="extraColumns"/> characters into it (an escape in a string).</summary>
    public ProtoTextException ErrorAt(IToken token, string message, int extraColumns = 0) =>
        new(message, Name, token.Line, token.Column + 1 + extraColumns, Math.Max(0, token.StartIndex) + extraColumns, LineText(token.Line));

    /// <summary>An error at character <paramref name="index"/> of the text, or <paramref name="extraColumns"/> characters after it.</summary>
    public ProtoTextException ErrorAt(int index, string message, int extraColumns = 0)
    {
        var (line, column, offset) = Position(index);
        return new(message, Name, line, column + 1 + extraColumns, offset + extraColumns, LineText(line));
    }

    /// <summary>
    /// The 1-based line, 0-based column and 0-based offset of character <paramref name="index"/>, columns and offsets
    /// in code points as the grammar's lexer counts them (a surrogate pair is one).
    /// </summary>
    public (int Line, int Column, int Offset) Position(int index)
    {
        int line = 1, column = 0, offset = 0;
        var text = Text.Span;
        for (int i = 0; i < index && i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(text[i - 1])) continue;
            offset++;
            if (c == '\n') { line++; column = 0; }
            else column++;
        }
        return (line, column, offset);
    }

    /// <summary><c>line:col</c> (1-based) of character <paramref name="index"/>, as an error names an earlier place.</summary>
    public string At(int index)
    {
        var (line, column, _) = Position(index);
        return $"{line}:{column + 1}";
    }

    /// <summary>The text of 1-based line <paramref name="line"/>, without its line break.</summary>
    public string LineText(int line)
    {
        var text = Text.Span;
        int start = 0;
        for (int n = 1; n < line && start >= 0; n++)
        {
            int nl = text[start..].IndexOf('\n');
            start = nl < 0 ? -1 : start + nl + 1;
        }
        if (start < 0) return "";
        var rest = text[start..];
        int end = rest.IndexOf('\n');
        return new string((end < 0 ? rest : rest[..end]).TrimEnd('\r'));
    }
}
