namespace Mopt.Bench;

/// <summary>A table printed in columns: the first left-aligned, the others right-aligned, each as wide as its widest cell.</summary>
public static class TextTable
{
    public static void Print(IReadOnlyList<string> head, IReadOnlyList<string[]> rows)
    {
        var widths = head.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(c => c[i].Length))).ToArray();
        string Line(IReadOnlyList<string> c) => string.Join("  ", c.Select((s, i) => i == 0 ? s.PadRight(widths[i]) : s.PadLeft(widths[i])));
        Console.WriteLine();
        Console.WriteLine(Line(head));
        foreach (var c in rows) Console.WriteLine(Line(c));
        Console.WriteLine();
    }
}
