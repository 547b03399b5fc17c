using Mopt.Backend.Graphviz;
using Mopt.Frontend;
using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Tools.Opt;

/// <summary>--view-op-graph's output: the graph as DOT on standard output, or a .dot/.svg file (backend/Graphviz draws it).</summary>
public static class OpGraphOutput
{
    /// <summary>The model to diff against: the input's own reader when it is the input (with its options), else by its extension.</summary>
    public static MirModule ReadOther(string other, string input, IModelReader inputReader)
    {
        bool sameFile = input != "-" && Path.GetFullPath(other) == Path.GetFullPath(input);
        return (sameFile ? inputReader : ModelReaders.For(other)).Read(other);
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
