namespace Mopt.Ir;

/// <summary>The operands of an operation cannot be valid: e.g. broadcasting 3 against 4, or an axis out of range.</summary>
public sealed class ShapeError(string message) : Exception(message);
