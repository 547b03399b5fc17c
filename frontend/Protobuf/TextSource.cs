using Antlr4.Runtime;

namespace Mopt.Protobuf;

/// <summary>The text being read and its name: turns a token (and a place inside it) into a <see cref="ProtoTextException"/>.</summary>
internal sealed class TextSource(string name, string text)
{
    public string Name { get; } = name;
    public string Text { get; } = text;

    /// <summary>An error at <paramref name="token"/>, or <paramref name="extraColumns"/> characters into it (an escape in a string).</summary>
    public ProtoTextException ErrorAt(IToken token, string message, int extraColumns = 0) =>
        new(message, Name, token.Line, token.Column + 1 + extraColumns, Math.Max(0, token.StartIndex) + extraColumns, LineText(token.Line));

    /// <summary>The text of 1-based line <paramref name="line"/>, without its line break.</summary>
    public string LineText(int line)
    {
        int start = 0;
        for (int n = 1; n < line && start >= 0; n++)
        {
            int nl = Text.IndexOf('\n', start);
            start = nl < 0 ? -1 : nl + 1;
        }
        if (start < 0) return "";
        int end = Text.IndexOf('\n', start);
        return (end < 0 ? Text[start..] : Text[start..end]).TrimEnd('\r');
    }
}
