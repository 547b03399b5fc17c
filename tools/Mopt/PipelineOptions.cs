using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Api;

/// <summary>How a pipeline runs (mopt-opt's <c>--verify-each</c>, <c>--debug</c>, <c>--pass-statistics</c>, IR dumps, <c>-o</c>).</summary>
public sealed record PipelineOptions
{
    /// <summary>Verify the IR after every pass that changed it.</summary>
    public bool VerifyEach { get; init; } = true;

    /// <summary>Where each pass's decisions go, including rewrites it skipped and why (mopt-opt's --debug); null: nowhere.</summary>
    public TextWriter? Debug { get; init; }

    /// <summary>Where passes' notes go (the quantizer's table of the worst layers, a file written); null: nowhere.</summary>
    public TextWriter? Notes { get; init; }

    /// <summary>Whether <see cref="Notes"/> is a terminal (notes may then use colour).</summary>
    public bool NotesIsTerminal { get; init; }

    /// <summary>Count what each pass did ("3 Identity removed"): <see cref="PipelineResult.Statistics"/>.</summary>
    public bool CollectStatistics { get; init; } = true;

    /// <summary>Keep the files passes write (reports, tables) until <see cref="PipelineResult.WritePendingFiles"/>, so that a run that fails later leaves none.</summary>
    public bool DeferFiles { get; init; }

    /// <summary>
    /// The file the model will be saved to: the lowerings its format needs run as part of the pipeline (a TensorFlow or
    /// Caffe model written as .onnx, anything written as Paddle), as with mopt-opt's <c>-o</c>; null: none.
    /// </summary>
    public string? WritesTo { get; init; }

    /// <summary>Called before each pass, with the model as it is then (IR dumps).</summary>
    public Action<Pass, MirModule>? BeforePass { get; init; }

    /// <summary>Called after each pass.</summary>
    public Action<Pass, MirModule>? AfterPass { get; init; }

    /// <summary>What passes use from outside the compiler; null: ONNX Runtime (<see cref="OrtPassServices.Create"/>).</summary>
    public PassServices? Services { get; init; }
}
