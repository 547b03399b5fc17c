namespace Mopt.Api;

/// <summary>
/// A model run against its original in ONNX Runtime on the same inputs (mopt-opt's <c>--verify-against</c>): each
/// output's differences, whether all are within the tolerance, and <see cref="Report"/>, the text the command prints.
/// </summary>
public sealed record VerificationResult(string Original, string Inputs, double Tolerance, IReadOnlyList<OutputComparison> Outputs, bool Passed, string Report);
