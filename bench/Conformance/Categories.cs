using System.Text.RegularExpressions;

namespace Mopt.Bench.Conformance;

/// <summary>Groups failure messages: paths, node names and numbers taken out so that like failures share a line.</summary>
public static partial class Categories
{
    public static string Of(string message)
    {
        string m = Paths().Replace(message, "<file>");
        m = Prefix().Replace(m, "");
        m = m.Replace("'<file>': ", "").Replace("<file>: ", "");
        m = FileQuote().Replace(m, "");
        if (m.StartsWith(ConstantModel, StringComparison.Ordinal)) return ConstantModel.TrimEnd(':', ' ');
        if (m.StartsWith("wrong values", StringComparison.Ordinal) || m.Contains(": wrong values", StringComparison.Ordinal)) return "wrong values";
        if (m.Contains("wrong shape", StringComparison.Ordinal)) return "wrong shape";
        if (m.Contains("wrong type", StringComparison.Ordinal)) return "wrong element type";
        m = Quoted().Replace(m, q => q.Value.Length <= 40 && Word().IsMatch(q.Value) ? q.Value : "'…'");
        m = Numbers().Replace(m, "N");
        return m.Length > 140 ? m[..140] + "…" : m;
    }

    public const string ConstantModel = "runner: ONNX Runtime fails on the constant-input model: ";

    // mopt names the file it read first ('constant0.onnx': ...)
    [GeneratedRegex(@"(?<=^|error: )'[^']*\.(?:onnx|mir)': ")]
    private static partial Regex FileQuote();

    [GeneratedRegex(@"(?:/[^\s'"":,\]]+)+")]
    private static partial Regex Paths();

    [GeneratedRegex(@"^(?:<file>(?::\d+){0,2}: )?(?:mopt-opt: )?(?:error: )?")]
    private static partial Regex Prefix();

    [GeneratedRegex(@"'[^']*'")]
    private static partial Regex Quoted();

    // an op or type name (Conv, com.microsoft.FusedConv, tensor<f32>) stays; a node or value name becomes '…'
    [GeneratedRegex(@"^'(?:[A-Z][A-Za-z0-9]*|(?:[a-z]+\.)+[A-Za-z0-9]+|[a-z]+\.[A-Za-z0-9_]+)'$")]
    private static partial Regex Word();

    [GeneratedRegex(@"\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")]
    private static partial Regex Numbers();
}
