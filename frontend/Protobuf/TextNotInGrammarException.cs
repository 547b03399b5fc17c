namespace Mopt.Protobuf;

/// <summary>
/// The fast path met text the grammar does not accept (or an error token): <see cref="ProtoText"/> then runs the generated
/// parser, which reports the syntax error with what it expected.
/// </summary>
internal sealed class TextNotInGrammarException(int index) : Exception($"not in the text format's grammar at character {index}")
{
    /// <summary>The character where the fast path stopped.</summary>
    public int Index { get; } = index;
}
