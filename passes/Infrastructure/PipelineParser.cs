using System.Text;

namespace Mopt.Passes;

/// <summary>
/// Reads <c>--pass-pipeline</c>: <c>canonicalize,fold-bn,quantize-int8{calibration=dir method=entropy}</c>, also
/// wrapped the way mlir-opt writes it (<c>builtin.module(func.func(canonicalize,cse))</c>).
/// </summary>
public static class PipelineParser
{
    public static List<Pass> Parse(string pipeline)
    {
        var passes = new List<Pass>();
        int i = 0;
        ParseList(pipeline, ref i, passes, closing: null);
        if (i < pipeline.Length) throw new PipelineException($"unexpected '{pipeline[i]}' at offset {i} of the pass pipeline");
        return passes;
    }

    private static void ParseList(string s, ref int i, List<Pass> into, char? closing)
    {
        while (true)
        {
            SkipSpaces(s, ref i);
            if (i >= s.Length || s[i] == closing) return;
            int start = i;
            while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] is '-' or '_' or '.')) i++;
            var name = s[start..i];
            if (name.Length == 0) throw new PipelineException($"expected a pass name at offset {start} of the pass pipeline");
            SkipSpaces(s, ref i);
            if (i < s.Length && s[i] == '(')
            {
                // An anchor such as builtin.module( ... ) or func.func( ... ): its passes run on the module.
                i++;
                ParseList(s, ref i, into, ')');
                if (i >= s.Length || s[i] != ')') throw new PipelineException($"'{name}(' is never closed in the pass pipeline");
                i++;
            }
            else
            {
                string? options = null;
                if (i < s.Length && s[i] == '{') options = ReadBraced(s, ref i);
                into.Add(PassRegistry.Create(name, options));
            }
            SkipSpaces(s, ref i);
            if (i < s.Length && s[i] == ',') { i++; continue; }
            return;
        }
    }

    private static string ReadBraced(string s, ref int i)
    {
        int depth = 0, start = i + 1;
        for (; i < s.Length; i++)
        {
            if (s[i] == '{') depth++;
            else if (s[i] == '}' && --depth == 0) { i++; return s[start..(i - 1)]; }
        }
        throw new PipelineException("a '{' in the pass pipeline is never closed");
    }

    private static void SkipSpaces(string s, ref int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
    }

    /// <summary>Splits <c>k=v k2="a b" k3={x y}</c> into pairs; a bare <c>k</c> means <c>k=true</c>.</summary>
    public static IEnumerable<(string Key, string Value)> SplitOptions(string text)
    {
        int i = 0;
        while (true)
        {
            SkipSpaces(text, ref i);
            if (i >= text.Length) yield break;
            int start = i;
            while (i < text.Length && text[i] != '=' && !char.IsWhiteSpace(text[i])) i++;
            var key = text[start..i];
            if (i >= text.Length || text[i] != '=') { yield return (key, "true"); continue; }
            i++;
            var value = new StringBuilder();
            if (i < text.Length && text[i] is '"' or '\'')
            {
                char quote = text[i++];
                while (i < text.Length && text[i] != quote) value.Append(text[i++]);
                if (i >= text.Length) throw new PipelineException($"option '{key}': the quote is never closed");
                i++;
            }
            else if (i < text.Length && text[i] == '{')
            {
                value.Append(ReadBraced(text, ref i));
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i])) value.Append(text[i++]);
            }
            yield return (key, value.ToString());
        }
    }
}
