using System.Text.RegularExpressions;
using Mopt.Dialects.Onnx;
using Mopt.Ir;

namespace Mopt.Passes.Pruning;

/// <summary>How the pruning passes name and select Convs: by their weight constant's name, matched in full by <c>params</c>.</summary>
internal static class ConvWeights
{
    /// <summary>The name of the Conv's weight constant (its location: the source model's parameter name), or null.</summary>
    public static string? NameOf(Operation conv) =>
        conv.OperandCount > 1 ? Constants.DefiningConstant(conv.GetOperand(1))?.Location.FirstName : null;

    /// <summary><paramref name="pattern"/> anchored at both ends; a pattern that does not compile is an error with its offset in the user's own text.</summary>
    public static Regex Params(string pass, string pattern)
    {
        try { _ = new Regex(pattern, RegexOptions.CultureInvariant); }
        catch (RegexParseException e)
        {
            // AOT builds carry no .NET message texts: "InsufficientClosingParentheses" as "insufficient closing parentheses".
            var words = Regex.Replace(e.Error.ToString(), "(?<=[a-z])(?=[A-Z])", " ").ToLowerInvariant();
            throw new PipelineException($"pass '{pass}': params='{pattern}' is not a valid regular expression: {words} at offset {e.Offset}");
        }
        return new Regex("^(?:" + pattern + ")$", RegexOptions.CultureInvariant);
    }

    /// <summary>The error for a <c>params</c> that selects nothing, naming a few weights that exist.</summary>
    public static PipelineException NoMatch(string pass, string pattern, IReadOnlyList<string> names) =>
        new($"pass '{pass}': params='{pattern}' matches no Conv weight; " + (names.Count == 0
            ? "the model has no onnx.Conv with a named constant weight (the pass runs on onnx.*: lower the model first, e.g. --pipeline=deploy)"
            : "Conv weights are named e.g. " + string.Join(", ", names.Take(5).Select(n => $"'{n}'")) + (names.Count > 5 ? $" ({names.Count} in all)" : "")));
}
