namespace Mopt.Ir;

/// <summary>A model to run and the values to read out of it (float tensors of its main function).</summary>
public sealed record ProbedModel(MirModule Module, IReadOnlyList<Value> Probes);
