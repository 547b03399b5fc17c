namespace Mopt.Ir;

/// <summary>
/// A user-facing error: bad input text, a malformed module, a pass that broke the IR. Tools print
/// <see cref="Format"/> and exit 1; it never carries a stack trace to the user.
/// </summary>
public sealed class MirException : Exception
{
    public MirException(string message, SourcePosition? position = null, string? sourceLine = null) : base(message)
    {
        Position = position;
        SourceLine = sourceLine;
    }

    public SourcePosition? Position { get; }
    /// <summary>The text of the offending line, shown under the message with a caret.</summary>
    public string? SourceLine { get; }

    /// <summary><c>file:line:col: error: message</c>, then the line and a caret under the column.</summary>
    public string Format()
    {
        if (Position is null) return $"error: {Message}";
        var head = $"{Position.File}:{Position.Line}:{Position.Column}: error: {Message}";
        if (SourceLine is null) return head;
        int caret = Math.Clamp(Position.Column - 1, 0, SourceLine.Length);
        var pad = new string(SourceLine.Take(caret).Select(c => c == '\t' ? '\t' : ' ').ToArray());
        return $"{head}\n{SourceLine}\n{pad}^";
    }
}
