using System.Globalization;
using System.Text;
using Mopt.Ir;

namespace Mopt.Backend.Graphviz;

/// <summary>How the op graph spells things in DOT: escaped strings and HTML labels, shapes, short attribute values.</summary>
internal static class DotText
{
    /// <summary>Longest name or value shown in a label; the tooltip has the whole text.</summary>
    public const int MaxLabel = 48;

    /// <summary>A DOT quoted string: <c>"</c> and <c>\</c> escaped (a backslash starts Graphviz's \n, \l, \N escapes), newlines as \n.</summary>
    public static void AppendQuoted(StringBuilder sb, string text)
    {
        sb.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': break;
                default: sb.Append(char.IsControl(c) ? ' ' : c); break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Text inside an HTML-like label: XML's five entities, a control character (a newline in a name) as a space; UTF-8 as is.</summary>
    public static void AppendHtml(StringBuilder sb, string text)
    {
        foreach (var c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default: sb.Append(char.IsControl(c) ? ' ' : c); break;
            }
        }
    }

    /// <summary>At most <paramref name="max"/> characters: the middle of a longer text becomes "…" (names differ at their ends).</summary>
    public static string Shorten(string text, int max = MaxLabel)
    {
        if (text.Length <= max) return text;
        int head = (max - 1) / 2, tail = max - 1 - head;
        return string.Concat(text.AsSpan(0, head), "…", text.AsSpan(text.Length - tail));
    }

    /// <summary><c>1×3×224×224</c>; <c>?</c> for a dynamic dim, <c>scalar</c> for rank 0, <c>*</c> unranked; other types as printed.</summary>
    public static string Dims(MirType type) => type switch
    {
        TensorType { Shape: null } => "*",
        TensorType { Shape.Count: 0 } => "scalar",
        TensorType t => string.Join("×", t.Shape!.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))),
        _ => type.Text,
    };

    /// <summary>What an edge or a result says: the dims, and the element type unless it is f32 (what most tensors are).</summary>
    public static string Shape(MirType type) => type switch
    {
        TensorType t when t.Element == ElementType.F32 => Dims(t),
        TensorType t => Dims(t) + " " + t.Element.Name,
        _ => Shorten(type.Text, 32),
    };

    /// <summary>A weight's type: dims and element type, always.</summary>
    public static string WeightType(MirType type) => type is TensorType t ? Dims(t) + " " + t.Element.Name : Shorten(type.Text, 32);

    /// <summary>An attribute's value, short (a tooltip line): numbers and strings as written, lists cut at 16 elements, tensors by type.</summary>
    public static string Attribute(Attr attr) => attr switch
    {
        IntegerAttr { Type.IsBool: true } i => i.Value != 0 ? "true" : "false",
        IntegerAttr i => i.Value.ToString(CultureInfo.InvariantCulture),
        FloatAttr f => f.Value.ToString("G6", CultureInfo.InvariantCulture),
        BoolAttr b => b.Value ? "true" : "false",
        StringAttr s => "\"" + Shorten(s.Value, 64) + "\"",
        UnitAttr => "unit",
        ArrayAttr a => "[" + List(a.Elements.Select(Attribute), a.Elements.Count) + "]",
        DenseArrayAttr d => "array<" + d.Type.Name + ": " + List(d.Values.Select(v => v.ToString(CultureInfo.InvariantCulture)), d.Values.Count) + ">",
        DictionaryAttr d => "{" + List(d.Entries.Select(e => e.Name + " = " + Attribute(e.Value)), d.Entries.Count) + "}",
        DenseElementsAttr d => "dense " + WeightType(d.Type),
        DenseResourceAttr r => "dense_resource<" + Shorten(r.Key, 40) + "> " + WeightType(r.Type),
        TypeAttr t => Shorten(t.Type.Text, 64),
        SymbolRefAttr s => "@" + s.Root,
        _ => attr.GetType().Name,
    };

    private static string List(IEnumerable<string> items, int count) =>
        count <= 16 ? string.Join(", ", items) : string.Join(", ", items.Take(16)) + $", … ({count})";

    /// <summary>A small constant's elements (at most 8), as <c>[1, -1]</c>; null when it has more or cannot be read.</summary>
    public static string? SmallValue(Attr? value, ResourceTable resources)
    {
        if (ConstantTensor.TryRead(value, resources, maxElements: 8) is not { } tensor) return null;
        var element = tensor.Type.Element;
        IEnumerable<string> items = element.IsFloat
            ? tensor.ToFloats().Select(f => f.ToString("G4", CultureInfo.InvariantCulture))
            : element.IsBool ? tensor.ToInt64s().Select(v => v != 0 ? "true" : "false")
            : element.IsInteger ? tensor.ToInt64s().Select(v => v.ToString(CultureInfo.InvariantCulture)) : [];
        var text = string.Join(", ", items);
        if (text.Length == 0 && tensor.ElementCount > 0) return null;
        return tensor.Type.Rank == 0 ? text : "[" + text + "]";
    }
}
