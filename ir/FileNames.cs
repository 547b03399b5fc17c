namespace Mopt.Ir;

/// <summary>What a path's name says: readers and writers tell a format by its extension.</summary>
public static class FileNames
{
    /// <summary>
    /// Whether <paramref name="path"/> ends in <paramref name="extension"/> (".onnx"), in any case, without making a
    /// string of its extension (every reader and writer asks it of every path a run names).
    /// </summary>
    public static bool HasExtension(string path, string extension) =>
        Path.GetExtension(path.AsSpan()).Equals(extension, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="path"/> names the IR's own text (<c>.mir</c>, or <c>.mlir</c> as mlir-opt's files are).</summary>
    public static bool IsMirText(string path) => HasExtension(path, ".mir") || HasExtension(path, ".mlir");
}
