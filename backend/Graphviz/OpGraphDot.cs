using System.Globalization;
using System.Text;
using Mopt.Dialects;
using Mopt.Ir;

namespace Mopt.Backend.Graphviz;

/// <summary>
/// A module as a Graphviz DOT graph (mlir-opt's <c>--view-op-graph</c>, drawn the way Netron draws a model): ops as
/// boxes labelled with their type, name and result shapes, the weights they read folded into their label with shape
/// and element type, edges labelled with tensor shapes, the function's arguments and results as nodes of their own,
/// top to bottom. Given the model before (<paramref name="before"/> of <see cref="Write"/>), it colours what was
/// removed (ghosts, dashed red), added (green) and changed (orange), matched by name (<see cref="OpGraph"/>).
/// </summary>
public static class OpGraphDot
{
    private const string AddedFill = "#d4f5d4", AddedLine = "#2e7d32", ChangedFill = "#ffe3bf", ChangedLine = "#e65100", RemovedLine = "#c62828";
    private const int MaxWeights = 6, MaxResults = 4, MaxAttributes = 40, MaxValueElements = 4;

    /// <summary>The graph of <paramref name="module"/> as DOT text; coloured against <paramref name="before"/> when given.</summary>
    public static string Write(MirModule module, MirModule? before = null, OpGraphOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        options ??= new OpGraphOptions();
        var dialects = options.Dialects ?? StandardDialects.Registry;
        var graph = OpGraph.Build(module, dialects);
        if (before is not null) OpGraphDiff.Apply(graph, OpGraph.Build(before, dialects));

        var sb = new StringBuilder(1024 + graph.Nodes.Count * 240);
        var title = options.Title ?? module.Name ?? "module";
        sb.Append("digraph ");
        DotText.AppendQuoted(sb, title);
        sb.Append(" {\n");
        sb.Append("  graph [rankdir=TB, nodesep=0.25, ranksep=0.35, fontname=\"Helvetica\", fontsize=12, labelloc=t, labeljust=l, outputorder=edgesfirst];\n");
        sb.Append("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#666666\", fontname=\"Helvetica\", fontsize=11, margin=\"0.12,0.05\", height=0.3];\n");
        sb.Append("  edge [fontname=\"Helvetica\", fontsize=9, fontcolor=\"#555555\", color=\"#777777\", arrowsize=0.6];\n");
        AppendTitle(sb, graph, title, before is null ? null : options.DiffAgainst ?? "the other model");

        int clusters = 0;
        AppendScope(sb, graph.Root, graph, "  ", ref clusters);
        foreach (var edge in graph.Edges)
        {
            sb.Append("  ").Append(edge.From.Id).Append(" -> ").Append(edge.To.Id).Append(" [label=");
            DotText.AppendQuoted(sb, edge.Label);
            if (edge.Ghost) sb.Append(", style=dashed, color=\"").Append(RemovedLine).Append("\", fontcolor=\"").Append(RemovedLine).Append('"');
            sb.Append("];\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>The title, and in a diff the legend: one table in the graph's label (no node of its own).</summary>
    private static void AppendTitle(StringBuilder sb, OpGraph graph, string title, string? against)
    {
        int ops = graph.Nodes.Count(n => n.Kind == NodeKind.Operation && n.Change != ChangeKind.Removed);
        sb.Append("  label=<<TABLE BORDER=\"0\" CELLSPACING=\"3\" CELLPADDING=\"3\"><TR><TD ALIGN=\"LEFT\" COLSPAN=\"4\"><B>");
        DotText.AppendHtml(sb, DotText.Shorten(title, 80));
        sb.Append("</B>  ").Append(ops.ToString(CultureInfo.InvariantCulture)).Append(ops == 1 ? " op" : " ops");
        if (against is not null)
        {
            sb.Append(", against ");
            DotText.AppendHtml(sb, DotText.Shorten(against, 80));
        }
        sb.Append("</TD></TR>");
        if (against is not null)
        {
            // ops only, as the title counts them: unchanged + added + changed = the ops drawn, removed ones are the ghosts beside them
            int Count(ChangeKind kind) => graph.Nodes.Count(n => n.Kind == NodeKind.Operation && n.Change == kind);
            sb.Append("<TR>");
            LegendCell(sb, "#ffffff", "#666666", "unchanged", Count(ChangeKind.None));
            LegendCell(sb, AddedFill, AddedLine, "added", Count(ChangeKind.Added));
            LegendCell(sb, ChangedFill, ChangedLine, "changed", Count(ChangeKind.Changed));
            LegendCell(sb, "#ffffff", RemovedLine, "removed (dashed)", Count(ChangeKind.Removed));
            sb.Append("</TR>");
        }
        sb.Append("</TABLE>>;\n");
    }

    private static void LegendCell(StringBuilder sb, string fill, string line, string text, int count) =>
        sb.Append("<TD BORDER=\"1\" COLOR=\"").Append(line).Append("\" BGCOLOR=\"").Append(fill).Append("\"><FONT POINT-SIZE=\"10\" COLOR=\"")
          .Append(line == "#666666" ? "#000000" : line).Append("\">").Append(text).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append("</FONT></TD>");

    private static void AppendScope(StringBuilder sb, GraphScope scope, OpGraph graph, string indent, ref int clusters)
    {
        foreach (var node in scope.Nodes) AppendNode(sb, node, graph.Dialects, indent);
        foreach (var child in scope.Children)
        {
            sb.Append(indent).Append("subgraph cluster_").Append((clusters++).ToString(CultureInfo.InvariantCulture)).Append(" {\n");
            sb.Append(indent).Append("  label=");
            DotText.AppendQuoted(sb, DotText.Shorten(child.Label, 80));
            sb.Append("; style=\"rounded,dashed\"; color=\"#999999\"; fontsize=10;\n");
            AppendScope(sb, child, graph, indent + "  ", ref clusters);
            sb.Append(indent).Append("}\n");
        }
    }

    private static void AppendNode(StringBuilder sb, GraphNode node, DialectRegistry dialects, string indent)
    {
        sb.Append(indent).Append(node.Id).Append(" [");
        var tooltip = new StringBuilder();
        sb.Append("label=<");
        if (node.Op is { } op) OpLabel(sb, tooltip, node, op, dialects);
        else
        {
            string role = node.Kind == NodeKind.Argument ? "input" : "output";
            sb.Append("<B>");
            DotText.AppendHtml(sb, DotText.Shorten(node.Name ?? role));
            sb.Append("</B><BR/><FONT POINT-SIZE=\"9\">");
            DotText.AppendHtml(sb, DotText.WeightType(node.Type!));
            sb.Append("</FONT>");
            tooltip.Append(role).Append(' ').Append(node.Name).Append(": ").Append(node.Type!.Text);
        }
        if (node.ChangeNote is { } note)
        {
            sb.Append("<BR/><FONT POINT-SIZE=\"9\" COLOR=\"").Append(ChangedLine).Append("\">");
            DotText.AppendHtml(sb, DotText.Shorten(note));
            sb.Append("</FONT>");
            tooltip.Append("\nchanged: ").Append(note);
        }
        sb.Append('>');
        if (node.Kind != NodeKind.Operation) sb.Append(", shape=ellipse");
        switch (node.Change)
        {
            case ChangeKind.Added: sb.Append(", fillcolor=\"").Append(AddedFill).Append("\", color=\"").Append(AddedLine).Append("\", penwidth=2"); break;
            case ChangeKind.Changed: sb.Append(", fillcolor=\"").Append(ChangedFill).Append("\", color=\"").Append(ChangedLine).Append("\", penwidth=2"); break;
            case ChangeKind.Removed:
                sb.Append(", style=\"").Append(node.Kind == NodeKind.Operation ? "rounded,dashed" : "dashed").Append("\", color=\"").Append(RemovedLine)
                  .Append("\", fontcolor=\"").Append(RemovedLine).Append('"');
                tooltip.Insert(0, "removed: ");
                break;
            default:
                sb.Append(", fillcolor=\"").Append(node.Op is { } plain ? OpCategory.Fill(plain) : "#eeeeee").Append('"');
                break;
        }
        sb.Append(", tooltip=");
        DotText.AppendQuoted(sb, tooltip.ToString());
        sb.Append("];\n");
    }

    private static void OpLabel(StringBuilder sb, StringBuilder tooltip, GraphNode node, Operation op, DialectRegistry dialects)
    {
        sb.Append("<B>");
        DotText.AppendHtml(sb, DotText.Shorten(OpGraph.DisplayName(op)));
        sb.Append("</B>");
        tooltip.Append(op.Name);
        var names = Names(op.Location);
        if (names.Count > 0)
        {
            sb.Append("<BR/><FONT POINT-SIZE=\"9\">");
            DotText.AppendHtml(sb, DotText.Shorten(names[0]));
            if (names.Count > 1) sb.Append(" (+").Append((names.Count - 1).ToString(CultureInfo.InvariantCulture)).Append(" fused)");
            sb.Append("</FONT>");
            tooltip.Append(' ').Append(string.Join(" + ", names));
        }
        for (int i = 0; i < node.Weights.Count; i++)
        {
            var w = node.Weights[i];
            var line = WeightLine(w, node.Module, dialects);
            if (i < MaxWeights)
            {
                sb.Append("<BR/><FONT POINT-SIZE=\"9\" COLOR=\"#333399\">");
                DotText.AppendHtml(sb, DotText.Shorten(line));
                sb.Append("</FONT>");
            }
            else if (i == MaxWeights)
                sb.Append("<BR/><FONT POINT-SIZE=\"9\" COLOR=\"#333399\">+").Append((node.Weights.Count - MaxWeights).ToString(CultureInfo.InvariantCulture)).Append(" more</FONT>");
            tooltip.Append('\n').Append(line);
            if (w.Constant.Location.FirstName is { } weightName) tooltip.Append(" (").Append(weightName).Append(')');
        }
        if (op.Results.Count > 0)
        {
            sb.Append("<BR/><FONT POINT-SIZE=\"9\" COLOR=\"#555555\">→ ");
            var shapes = op.Results.Take(MaxResults).Select(r => DotText.Shape(r.Type));
            DotText.AppendHtml(sb, DotText.Shorten(string.Join(", ", shapes) + (op.Results.Count > MaxResults ? $", … ({op.Results.Count})" : ""), 64));
            sb.Append("</FONT>");
        }
        if (op.Results.Count > 0) tooltip.Append("\n→ ").Append(string.Join(", ", op.Results.Select(r => r.Type.Text)));
        int shown = 0;
        foreach (var attr in op.Attributes)
        {
            if (shown++ == MaxAttributes) { tooltip.Append("\n…"); break; }
            tooltip.Append('\n').Append(attr.Name).Append(" = ").Append(DotText.Attribute(attr.Value));
        }
    }

    /// <summary><c>W: 8×3×3×3 f32</c>, and the value of a constant of at most four elements when it fits (<c>shape: 2 i64 = [1, -1]</c>).</summary>
    private static string WeightLine(FoldedWeight w, MirModule module, DialectRegistry dialects)
    {
        var type = w.Constant.Result.Type;
        var line = w.SlotName + ": " + DotText.WeightType(type);
        if (type is TensorType { ElementCount: <= MaxValueElements })
        {
            var value = dialects.Interface<IConstantLike>(w.Constant)?.ValueAttribute(w.Constant);
            if (DotText.SmallValue(value, module.Resources) is { } text && line.Length + 3 + text.Length <= DotText.MaxLabel) line += " = " + text;
        }
        return line;
    }

    /// <summary>Every name a location carries (a fused op's, in order).</summary>
    private static List<string> Names(Location location)
    {
        var names = new List<string>();
        void Add(Location l)
        {
            switch (l)
            {
                case NameLoc n: if (!names.Contains(n.Name)) names.Add(n.Name); break;
                case FusedLoc f: foreach (var inner in f.Locations) Add(inner); break;
                case CallSiteLoc c: Add(c.Callee); break;
            }
        }
        Add(location);
        return names;
    }
}
