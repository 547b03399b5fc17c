namespace Mopt.Backend.Graphviz;

/// <summary>Graphviz's <c>dot</c> is missing or failed: a plain error for the user, no file written.</summary>
public sealed class GraphvizException(string message) : Exception(message);
