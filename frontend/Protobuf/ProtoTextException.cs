namespace Mopt.Protobuf;

/// <summary>
/// Bad text-format input, at a place in it. <see cref="Format"/> gives the diagnostics form every mopt reader uses
/// (<c>file:line:col: error: message</c>, the line, a caret); a frontend turns it into its own error type unchanged.
/// </summary>
public sealed class ProtoTextException : Exception
{
    public ProtoTextException(string message, string file, int line, int column, int offset, string sourceLine) : base(message)
    {
        File = file;
        Line = line;
        Column = column;
        Offset = offset;
        SourceLine = sourceLine;
    }

    /// <summary>The name the text was given (its path, or &lt;string&gt;).</summary>
    public string File { get; }
    /// <summary>1-based.</summary>
    public int Line { get; }
    /// <summary>1-based, in characters (a tab counts one).</summary>
    public int Column { get; }
    /// <summary>0-based index of the place in the text, in characters (code points).</summary>
    public int Offset { get; }
    /// <summary>The text of the offending line, shown under the message with a caret.</summary>
    public string SourceLine { get; }

    /// <summary><c>file:line:col: error: message</c>, then the line and a caret under the column.</summary>
    public string Format()
    {
        var head = $"{File}:{Line}:{Column}: error: {Message}";
        int caret = Math.Clamp(Column - 1, 0, SourceLine.Length);
        var pad = new string(SourceLine.Take(caret).Select(c => c == '\t' ? '\t' : ' ').ToArray());
        return $"{head}\n{SourceLine}\n{pad}^";
    }
}
