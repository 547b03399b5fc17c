using System.Text;
using Mopt.Ir;

namespace Mopt.Backend.Graphviz;

/// <summary>
/// Writes the op graph of a module to a file by its extension: <c>.dot</c> or <c>.gv</c> as DOT text, <c>.svg</c> or
/// <c>.png</c> rendered by Graphviz's dot first (so a missing or failing dot leaves no file), each file complete or not there.
/// </summary>
public static class OpGraphWriter
{
    /// <summary>The extensions it writes, for messages.</summary>
    public const string Extensions = ".dot, .gv (DOT text), .svg, .png (rendered by Graphviz's dot)";

    public static bool CanWrite(string path) => Path.GetExtension(path).ToLowerInvariant() is ".dot" or ".gv" or ".svg" or ".png";

    /// <summary>Writes <paramref name="dot"/> (from <see cref="OpGraphDot.Write"/>) to <paramref name="path"/>.</summary>
    public static void Write(string dot, string path)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        byte[] bytes = extension switch
        {
            ".dot" or ".gv" => new UTF8Encoding(false).GetBytes(dot),
            ".svg" or ".png" => GraphvizRenderer.Render(dot, extension[1..], "-o " + path),
            _ => throw new MirException($"'{path}': the op graph is written as {Extensions}"),
        };
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
