using Mopt.Ir;

namespace Mopt.Backend.Graphviz;

/// <summary>
/// Marks a graph against the graph of another model (the one before a pipeline): nodes whose key the other lacks
/// are added; nodes in both are changed when the op type, a result type, an attribute or an input differs (a folded
/// weight by its type and bytes); the other's nodes this one lacks come in as removed ghosts, with the other's edges
/// that touch them (to this graph's node of the same key, or to another ghost).
/// </summary>
internal static class OpGraphDiff
{
    public static void Apply(OpGraph after, OpGraph before)
    {
        foreach (var node in after.Nodes)
        {
            if (!before.ByKey.TryGetValue(node.Key, out var old)) node.Change = ChangeKind.Added;
            else if (Difference(node, old, after, before) is { } note) (node.Change, node.ChangeNote) = (ChangeKind.Changed, note);
        }

        var ghosts = new Dictionary<GraphNode, GraphNode>();
        foreach (var old in before.Nodes)
        {
            if (after.ByKey.ContainsKey(old.Key)) continue;
            var scope = after.Scopes.GetValueOrDefault(old.Scope.Key) ?? after.Root;
            var ghost = new GraphNode(after.NextId("g"), old.Key, old.Kind, scope)
                { Op = old.Op, Type = old.Type, Name = old.Name, Module = old.Module, Change = ChangeKind.Removed };
            ghost.Weights.AddRange(old.Weights);
            ghosts[old] = ghost;
            after.Nodes.Add(ghost);
            scope.Nodes.Add(ghost);
        }
        foreach (var edge in before.Edges)
        {
            bool fromGhost = ghosts.TryGetValue(edge.From, out var from), toGhost = ghosts.TryGetValue(edge.To, out var to);
            if (!fromGhost && !toGhost) continue;
            from ??= after.ByKey.GetValueOrDefault(edge.From.Key);
            to ??= after.ByKey.GetValueOrDefault(edge.To.Key);
            if (from is not null && to is not null) after.Edges.Add(new GraphEdge(from, to, edge.Label, Ghost: true));
        }
    }

    /// <summary>What differs between two nodes of the same key, shortly (<c>inputs W, +B; attrs pads</c>), or null.</summary>
    private static string? Difference(GraphNode now, GraphNode old, OpGraph graph, OpGraph before)
    {
        if (now.Op is null || old.Op is null)
            return SameOrRefined(now.Type!, old.Type!) ? null : $"type was {DotText.Shape(old.Type!)}";
        var notes = new List<string>();
        bool sameOp = now.Op.Name == old.Op.Name;
        if (!sameOp) notes.Add("was " + OpGraph.DisplayName(old.Op));
        if (now.Op.Results.Count != old.Op.Results.Count || now.Op.Results.Where((r, i) => !SameOrRefined(r.Type, old.Op.Results[i].Type)).Any())
            notes.Add("result was " + string.Join(", ", old.Op.Results.Select(r => DotText.Shape(r.Type))));

        var inputs = new List<string>();
        for (int i = 0; i < Math.Max(now.Inputs.Count, old.Inputs.Count); i++)
        {
            if (i >= old.Inputs.Count) inputs.Add("+" + graph.SlotName(now.Op, i, now.Inputs[i].Constant));
            else if (i >= now.Inputs.Count) inputs.Add("−" + graph.SlotName(old.Op, i, old.Inputs[i].Constant));
            else if (!SameInput(now.Inputs[i], now.Module, old.Inputs[i], old.Module) && !Rerouted(now.Inputs[i], old.Inputs[i], graph, before))
                inputs.Add(graph.SlotName(now.Op, i, now.Inputs[i].Constant));
        }
        if (inputs.Count > 0) notes.Add("inputs " + string.Join(", ", inputs));

        // Another op's attributes (a lowering: caffe.Convolution to onnx.Conv) are another vocabulary: the op type says it.
        var attrs = sameOp ? ChangedAttributes(now, old) : [];
        if (attrs.Count > 0) notes.Add("attrs " + string.Join(", ", attrs));
        return notes.Count == 0 ? null : string.Join("; ", notes);
    }

    /// <summary>The attributes added (<c>+name</c>), removed (<c>−name</c>) or given another value.</summary>
    private static List<string> ChangedAttributes(GraphNode now, GraphNode old)
    {
        var attrs = new List<string>();
        foreach (var a in now.Op!.Attributes)
        {
            if (old.Op!.GetAttr(a.Name) is not { } was) attrs.Add("+" + a.Name);
            else if (!SameAttr(a.Value, now.Module, was, old.Module)) attrs.Add(a.Name);
        }
        foreach (var a in old.Op!.Attributes)
            if (now.Op.GetAttr(a.Name) is null) attrs.Add("−" + a.Name);
        return attrs;
    }

    /// <summary>The same type, or one whose shape was not known before (an unranked import that shape inference filled in).</summary>
    private static bool SameOrRefined(MirType now, MirType old) =>
        now == old || (old is TensorType { Shape: null } o && now is TensorType n && n.Element == o.Element);

    /// <summary>
    /// An input now read from another op because the op it was read from is gone, or because a new op sits in between:
    /// the removed or added op shows that, so the reader is not marked changed for it.
    /// </summary>
    private static bool Rerouted(GraphInput now, GraphInput old, OpGraph after, OpGraph before) =>
        (old.Source is { } was && !after.ByKey.ContainsKey(was.Key)) || (now.Source is { } source && !before.ByKey.ContainsKey(source.Key));

    private static bool SameInput(GraphInput a, MirModule aModule, GraphInput b, MirModule bModule)
    {
        if (a.Source is not null || b.Source is not null)
            return a.Source is not null && b.Source is not null && a.Source.Key == b.Source.Key && a.ResultIndex == b.ResultIndex;
        if (a.Constant is null || b.Constant is null) return a.Constant is null && b.Constant is null;
        if (a.Constant.Result.Type != b.Constant.Result.Type || a.Constant.Name != b.Constant.Name) return false;
        if (a.Constant.AttributeCount != b.Constant.AttributeCount) return false;
        for (int i = 0; i < a.Constant.AttributeCount; i++)
        {
            var (x, y) = (a.Constant.Attributes[i], b.Constant.Attributes[i]);
            if (x.Name != y.Name || !SameAttr(x.Value, aModule, y.Value, bModule)) return false;
        }
        return true;
    }

    /// <summary>Equal attributes; a <c>dense_resource</c> by its blob's bytes (each module has its own table).</summary>
    private static bool SameAttr(Attr a, MirModule aModule, Attr b, MirModule bModule)
    {
        if (a is DenseResourceAttr ra && b is DenseResourceAttr rb)
        {
            if (ra.Type != rb.Type) return false;
            var (x, y) = (aModule.Resources.Get(ra.Key), bModule.Resources.Get(rb.Key));
            if (x is null || y is null) return x is null && y is null && ra.Key == rb.Key;
            return x.Data.Span.SequenceEqual(y.Data.Span);
        }
        return a.Equals(b);
    }
}
