namespace Mopt.Api;

/// <summary>One row of the op histogram: an op name as the IR spells it (<c>onnx.Conv</c>) and how many the model has.</summary>
public sealed record OpCount(string Op, int Count);
