using Mopt.Ir;

namespace Mopt.Api;

/// <summary>
/// A model input or output: its name, its type as the IR prints it (<c>tensor&lt;1x3x224x224xf32&gt;</c>), and, for a
/// tensor, the element type (<c>f32</c>) and the shape (-1 for a dynamic dimension; null when unranked or not a tensor).
/// </summary>
public sealed record TensorInfo(string Name, string Type, string? ElementType, IReadOnlyList<long>? Shape)
{
    internal static TensorInfo Of(string name, MirType type) =>
        type is TensorType t ? new(name, t.ToString(), t.Element.Name, t.Shape?.ToArray()) : new(name, type.ToString() ?? "?", null, null);

    internal static IReadOnlyList<TensorInfo> Inputs(MirModule module)
    {
        var func = module.MainFunction;
        return Enumerable.Range(0, func.Arguments.Count).Select(i => Of(func.ArgName(i) ?? $"arg{i}", func.Arguments[i].Type)).ToArray();
    }

    internal static IReadOnlyList<TensorInfo> Outputs(MirModule module)
    {
        var func = module.MainFunction;
        return Enumerable.Range(0, func.Type.Results.Count).Select(i => Of(func.ResultName(i) ?? $"result{i}", func.Type.Results[i])).ToArray();
    }
}
