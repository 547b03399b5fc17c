using Mopt.Ir;

namespace Mopt.Dialects.Mo;

/// <summary>Result names live in <c>mo.outputs</c>: the rewriter moves a replaced result's name to its replacement.</summary>
public sealed class MoResultNames : IResultNames
{
    public static MoResultNames Instance { get; } = new();

    public void Transfer(OpResult from, OpResult to)
    {
        if (from.Owner.GetAttr(MoDialect.OutputsAttr) is not ArrayAttr fromNames || NameAt(fromNames, from.Index) is not { } name) return;
        var target = to.Owner;
        var existing = target.GetAttr(MoDialect.OutputsAttr) as ArrayAttr;
        // Every lowered or fused op: one result, unnamed, taking the name of a one-result op (attributes are values: shared).
        if (existing is null && target.Results.Count == 1 && fromNames.Elements.Count == 1)
        {
            target.SetAttr(MoDialect.OutputsAttr, fromNames);
            return;
        }
        int count = Math.Max(existing?.Elements.Count ?? 0, target.Results.Count);
        var names = new Attr[count];
        for (int i = 0; i < count; i++)
            names[i] = existing is not null && i < existing.Elements.Count ? existing.Elements[i] : new StringAttr("");
        names[to.Index] = fromNames.Elements[from.Index];
        target.SetAttr(MoDialect.OutputsAttr, ArrayAttr.Of(names));
    }

    public bool IsResultNames(string attributeName) => attributeName == MoDialect.OutputsAttr;

    public bool IsBookkeeping(string attributeName) =>
        attributeName.StartsWith("mo.", StringComparison.Ordinal) || attributeName is "onnx.doc_string" or "onnx.metadata_props";

    /// <summary>The name of <paramref name="result"/> in <c>mo.outputs</c>, or null.</summary>
    public static string? NameOf(OpResult result) =>
        result.Owner.GetAttr(MoDialect.OutputsAttr) is ArrayAttr names ? NameAt(names, result.Index) : null;

    private static string? NameAt(ArrayAttr names, int index) =>
        index < names.Elements.Count && names.Elements[index] is StringAttr { Value.Length: > 0 } s ? s.Value : null;
}
