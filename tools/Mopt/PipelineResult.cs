using Mopt.Passes;

namespace Mopt.Api;

/// <summary>What a pipeline run did: each pass with its time and statistics, and the files its passes still have to write.</summary>
public sealed class PipelineResult
{
    private readonly PassManager _manager;

    internal PipelineResult(PassManager manager, IReadOnlyList<PassRun> runs)
    {
        _manager = manager;
        Runs = runs;
    }

    /// <summary>Each pass that ran, in order: its time, its verification's time, and what it did.</summary>
    public IReadOnlyList<PassRun> Runs { get; }

    /// <summary>What each pass did, one line per pass (<c>fold-bn: 2 folded, 11 blobs removed</c>), as <c>--pass-statistics</c>.</summary>
    public IReadOnlyList<string> Statistics => Runs.Select(r => $"{r.Pass.Name}: {r.Context.Summarize()}").ToArray();

    /// <summary>Writes the files passes deferred (<see cref="PipelineOptions.DeferFiles"/>): after the model is saved.</summary>
    public void WritePendingFiles() => _manager.WritePendingFiles();
}
