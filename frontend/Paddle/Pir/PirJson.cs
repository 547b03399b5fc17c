using System.Text;
using System.Text.Json;
using Mopt.Ir;

namespace Mopt.Frontend.Paddle.Pir;

/// <summary>
/// A PIR <c>.json</c> file parsed by System.Text.Json (docs/formats/paddle.md): a syntax error is reported at its
/// <c>file:line:col</c>; <see cref="LooksLikePir"/> tells a PIR program from another JSON file by its first key.
/// </summary>
public static class PirJson
{
    /// <summary>Nested ifs and whiles nest five JSON levels each (op, regions, region, blocks, block, ops): room for deep programs.</summary>
    private const int MaxDepth = 1024;

    /// <summary>How much of a <c>.json</c> file <see cref="LooksLikePir"/> reads: the first key is near the start.</summary>
    private const int SniffBytes = 4096;

    /// <summary>Top-level keys of a PIR program (schema.h BASE_CODE, PROGRAM); the writer puts base_code first.</summary>
    public const string BaseCode = "base_code";
    public const string Program = "program";

    public static JsonDocument Parse(string path)
    {
        ReadOnlyMemory<byte> bytes = WholeFile.Read(path);
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            int line = (int)(e.LineNumber ?? 0) + 1, column = (int)(e.BytePositionInLine ?? 0) + 1;
            var text = LineText(bytes.Span, line);
            throw new MirException($"not valid JSON: {Reason(e.Message)}", new SourcePosition(path, line, column, 0), text);
        }
    }

    /// <summary>
    /// False only for a JSON file that is clearly something else: one whose top-level object's first key is neither
    /// base_code nor program. Text that is not a JSON object at all is left to <see cref="Parse"/> to report.
    /// </summary>
    public static bool LooksLikePir(string path)
    {
        var head = new byte[SniffBytes];
        int length;
        try
        {
            using var stream = File.OpenRead(path);
            length = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (IOException) { return true; } // the reader reports it
        catch (UnauthorizedAccessException) { return true; }
        var reader = new Utf8JsonReader(head.AsSpan(0, length), isFinalBlock: length < head.Length, default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return true;
            if (!reader.Read()) return true;
            if (reader.TokenType != JsonTokenType.PropertyName) return true;
            var key = reader.GetString();
            return key is BaseCode or Program;
        }
        catch (JsonException) { return true; }
    }

    /// <summary>System.Text.Json's message without its own position and path suffix (the caret shows where).</summary>
    private static string Reason(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd();
    }

    private static string? LineText(ReadOnlySpan<byte> bytes, int line)
    {
        int start = 0;
        for (int l = 1; l < line; l++)
        {
            int next = bytes[start..].IndexOf((byte)'\n');
            if (next < 0) return null;
            start += next + 1;
        }
        var rest = bytes[start..];
        int end = rest.IndexOf((byte)'\n');
        var text = end < 0 ? rest : rest[..end];
        if (text.Length > 200) return null; // a compact one-line file: the caret would point into a wall of text
        return Encoding.UTF8.GetString(text).TrimEnd('\r');
    }
}
