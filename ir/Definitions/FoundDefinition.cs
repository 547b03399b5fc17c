namespace Mopt.Ir;

/// <summary>What <see cref="DialectRegistry.Find(Operation)"/> found for an op's name: kept on the op, valid for that registry and name.</summary>
internal sealed record FoundDefinition(DialectRegistry Registry, string Name, OpDefinition? Definition);
