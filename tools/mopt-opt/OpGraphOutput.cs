using Mopt.Backend.Graphviz;
using Mopt.Api;
using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Tools.Opt;

/// <summary>--view-op-graph's output: the graph as DOT on standard output, or a .dot/.svg file (backend/Graphviz draws it).</summary>
public static class OpGraphOutput
{
    /// <summary>The model to diff against: read with the input's options when it is the input, else as its extension says.</summary>
    public static MirModule ReadOther(string other, string input, LoadOptions inputOptions)
    {
        bool sameFile = input != "-" && Path.GetFullPath(other) == Path.GetFullPath(input);
        return Model.Load(other, sameFile ? inputOptions : null).Module;
    }

    public static void Write(MirModule module, MirModule? before, string? against, string? output, TextWriter stdout)
    {
        var dot = OpGraphDot.Write(module, before, new OpGraphOptions { DiffAgainst = against is null ? null : Path.GetFileName(against.TrimEnd('/')) });
        if (output is null)
        {
            stdout.Write(dot);
            stdout.Flush();
            return;
        }
        try { OpGraphWriter.Write(dot, output); }
        catch (GraphvizException e) { throw new PipelineException(e.Message); } // mopt-opt: error: ..., exit 1
    }
}
