using System.Text;

namespace Mopt.Passes.Tf;

/// <summary>One transform of a Graph Transform Tool string: its name, its parameters (a name may repeat) and where it starts.</summary>
public sealed record GttTransform(string Name, IReadOnlyList<(string Key, string Value)> Parameters, int Offset)
{
    /// <summary>Every value given for <paramref name="key"/>, in order.</summary>
    public IReadOnlyList<string> All(string key) => Parameters.Where(p => p.Key == key).Select(p => p.Value).ToList();

    /// <summary>The one value of <paramref name="key"/>, or null; given twice is an error, as transform_graph's GetOneStringParameter.</summary>
    public string? One(string key)
    {
        var values = All(key);
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => throw new PipelineException($"--tf-transforms: {Name}: '{key}' is given {values.Count} times, it takes one value"),
        };
    }
}

/// <summary>
/// Reads a <c>--transforms</c> string of TensorFlow's Graph Transform Tool as transform_graph.cc's
/// ParseTransformParameters does: transform names (letters, digits, '_') separated by spaces, each with an optional
/// parenthesised list of <c>name=value</c> parameters separated by commas or spaces; a value is a run of letters,
/// digits and <c>- . / _</c>, or a double-quoted string (backslash escapes the next character), and a name may be given
/// more than once (<c>remove_nodes(op=Identity, op=CheckNumerics)</c>). Unlike transform_graph, a '(' never closed
/// is an error (it drops the transform), spaces before ')' are allowed, and single quotes work as double quotes.
/// An error names the position with the string and a caret under it.
/// </summary>
public static class GttTransformList
{
    public static List<GttTransform> Parse(string text)
    {
        var result = new List<GttTransform>();
        int i = 0;
        while (true)
        {
            SkipSpaces(text, ref i);
            if (i >= text.Length) return result;
            int start = i;
            var name = Word(text, ref i, c => char.IsAsciiLetterOrDigit(c) || c == '_');
            if (name.Length == 0) throw Error(text, i, $"expected a transform name, found '{text[i]}'");
            var parameters = new List<(string, string)>();
            if (i < text.Length && text[i] == '(')
            {
                int open = i++;
                while (true)
                {
                    SkipSpaces(text, ref i);
                    if (i >= text.Length) throw Error(text, open, $"the '(' of {name} is never closed");
                    if (text[i] == ')') { i++; break; }
                    if (text[i] == ',' && parameters.Count > 0) { i++; SkipSpaces(text, ref i); }
                    if (i >= text.Length) throw Error(text, open, $"the '(' of {name} is never closed");
                    var key = Word(text, ref i, c => char.IsAsciiLetterOrDigit(c) || c == '_');
                    if (key.Length == 0) throw Error(text, i, $"expected a parameter name in {name}(...), found '{text[i]}'");
                    if (i >= text.Length || text[i] != '=') throw Error(text, i, $"expected '=' after the parameter '{key}' of {name}");
                    i++;
                    parameters.Add((key, Value(text, ref i, key)));
                }
            }
            result.Add(new GttTransform(name, parameters, start));
            // Transforms are separated by spaces: "fold_batch_norms(x=1)fold_old_batch_norms" is a typo, not two transforms.
            if (i < text.Length && !char.IsWhiteSpace(text[i])) throw Error(text, i, $"expected a space after {name}, found '{text[i]}'");
        }
    }

    private static string Value(string text, ref int i, string key)
    {
        if (i < text.Length && text[i] is '"' or '\'')
        {
            int open = i;
            char quote = text[i++];
            var value = new StringBuilder();
            while (i < text.Length && text[i] != quote)
            {
                if (text[i] == '\\' && i + 1 < text.Length) i++;
                value.Append(text[i++]);
            }
            if (i >= text.Length) throw Error(text, open, $"the quote of '{key}' is never closed");
            i++;
            return value.ToString();
        }
        var word = Word(text, ref i, c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '/' or '_');
        if (word.Length == 0)
            throw Error(text, i, i < text.Length ? $"expected a value for '{key}', found '{text[i]}' (quote a value with commas or spaces: {key}=\"1,2\")" : $"expected a value for '{key}'");
        return word;
    }

    private static string Word(string text, ref int i, Func<char, bool> allowed)
    {
        int start = i;
        while (i < text.Length && allowed(text[i])) i++;
        return text[start..i];
    }

    private static void SkipSpaces(string text, ref int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
    }

    /// <summary>The message, then the string on one line (line breaks as spaces) and a caret under <paramref name="at"/>.</summary>
    public static PipelineException Error(string text, int at, string message)
    {
        var line = text.Replace('\n', ' ').Replace('\r', ' ').Replace('\t', ' ');
        return new PipelineException($"--tf-transforms: {message} (at offset {at})\n  {line}\n  {new string(' ', Math.Clamp(at, 0, line.Length))}^");
    }
}
