using System.Globalization;
using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--set-input-shape='input=1x3x224x224 mask=1x?'</c>: fixes the dynamic dimensions of graph inputs, then
/// re-infers every result type (as <c>--infer-shapes</c>), so downstream <c>?</c> dims become numbers.
/// <code>
/// Before: @main(%arg0: tensor&lt;?x3x224x224xf32&gt; {mo.name = "input"}) ... tensor&lt;?x1000xf32&gt;
/// After:  @main(%arg0: tensor&lt;1x3x224x224xf32&gt; {mo.name = "input"}) ... tensor&lt;1x1000xf32&gt;
/// </code>
/// The new shape must fit the old one: same rank, and every static dimension unchanged (only <c>?</c> may become a
/// number; <c>?</c> in the new shape keeps a dimension dynamic). This is the one way a <c>?</c> becomes a number.
/// </summary>
public sealed class SetInputShape : Pass
{
    public override string Name => "set-input-shape";
    public override string Summary => "Fix the dynamic dimensions of graph inputs (name=1x3x224x224) and re-infer shapes";

    /// <summary>Options are the input names themselves: <c>--set-input-shape='input=1x3x224x224'</c>.</summary>
    public override IReadOnlyList<PassOption> Options => [];

    private readonly Dictionary<string, string> _requested = new(StringComparer.Ordinal);

    public override void SetOptionsFromPairs(IEnumerable<(string Key, string Value)> pairs)
    {
        foreach (var (key, value) in pairs) _requested[key] = value;
    }

    public override string Describe() =>
        _requested.Count == 0 ? Name : $"{Name}{{{string.Join(' ', _requested.Select(kv => $"{kv.Key}={kv.Value}"))}}}";

    public override void Run(MirModule module, PassContext context)
    {
        if (_requested.Count == 0) throw new InvalidOperationException("set-input-shape: name at least one input, e.g. --set-input-shape='input=1x3x224x224'");
        var func = module.MainFunction;
        foreach (var (name, text) in _requested)
        {
            int index = Enumerable.Range(0, func.Arguments.Count).FirstOrDefault(i => func.ArgName(i) == name, -1);
            if (index < 0)
                throw new InvalidOperationException($"set-input-shape: no input named '{name}' (inputs: {string.Join(", ", Enumerable.Range(0, func.Arguments.Count).Select(i => func.ArgName(i) ?? $"#{i}"))})");
            var arg = func.Arguments[index];
            if (arg.Type is not TensorType old) throw new InvalidOperationException($"set-input-shape: input '{name}' is {arg.Type}, not a tensor");
            var dims = ParseShape(name, text);
            if (old.Shape is { } oldShape)
            {
                if (oldShape.Count != dims.Length)
                    throw new InvalidOperationException($"set-input-shape: input '{name}' has rank {oldShape.Count} ({old}), but {text} has rank {dims.Length}");
                for (int d = 0; d < dims.Length; d++)
                    if (oldShape[d] >= 0 && dims[d] != oldShape[d])
                        throw new InvalidOperationException($"set-input-shape: input '{name}' dimension {d} is {oldShape[d]}, not {(dims[d] < 0 ? "?" : dims[d].ToString(CultureInfo.InvariantCulture))}");
            }
            var type = new TensorType(old.Element, dims);
            if (type == old) continue;
            arg.Type = type;
            context.Count("inputs reshaped");
        }
        func.UpdateType();
        new InferShapes().Run(module, context);
    }

    private static long[] ParseShape(string name, string text)
    {
        var parts = text.Split('x', StringSplitOptions.TrimEntries);
        var dims = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i] == "?") { dims[i] = TensorType.Dynamic; continue; }
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]))
                throw new InvalidOperationException($"set-input-shape: '{text}' for input '{name}' is not a shape like 1x3x224x224");
        }
        return dims;
    }
}
