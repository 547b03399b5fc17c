using Mopt.Ir;

namespace Mopt.Dialects.Mo;

/// <summary>Result names live in <c>mo.outputs</c>: the rewriter moves a replaced result's name to its replacement.</summary>
public sealed class MoResultNames : IResultNames
{
    public static MoResultNames Instance { get; } = new();

    public void Transfer(OpResult from, OpResult to)
    {
        if (NameOf(from) is not { } name) return;
        var target = to.Owner;
        var names = target.GetAttr(MoDialect.OutputsAttr) is ArrayAttr a ? a.Elements.ToList() : new List<Attr>();
        while (names.Count < target.Results.Count) names.Add(new StringAttr(""));
        names[to.Index] = new StringAttr(name);
        target.SetAttr(MoDialect.OutputsAttr, ArrayAttr.Of(names));
    }

    public bool IsResultNames(string attributeName) => attributeName == MoDialect.OutputsAttr;

    public bool IsBookkeeping(string attributeName) =>
        attributeName.StartsWith("mo.", StringComparison.Ordinal) || attributeName is "onnx.doc_string" or "onnx.metadata_props";

    /// <summary>The name of <paramref name="result"/> in <c>mo.outputs</c>, or null.</summary>
    public static string? NameOf(OpResult result) =>
        result.Owner.GetAttr(MoDialect.OutputsAttr) is ArrayAttr names && result.Index < names.Elements.Count
        && names.Elements[result.Index] is StringAttr { Value.Length: > 0 } s ? s.Value : null;
}
