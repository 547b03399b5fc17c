using Mopt.Frontend;
using Mopt.Frontend.Caffe;
using Mopt.Frontend.Tf;
using Mopt.Passes;

namespace Mopt.Api;

/// <summary>
/// What a format needs beyond its path (mopt-opt's <c>--caffe-weights</c>, <c>--tf-inputs</c>, <c>--tf-outputs</c>,
/// <c>--tf-checkpoint</c>); every other format is read by its extension alone.
/// </summary>
public sealed record LoadOptions
{
    /// <summary>The .caffemodel whose blobs a .prototxt net gets (default: the .caffemodel of the prototxt's stem).</summary>
    public string? CaffeWeights { get; init; }

    /// <summary>A TensorFlow graph's outputs as tensor names (<c>a</c>, <c>b:1</c>); default: the nodes no one consumes.</summary>
    public IReadOnlyList<string> TfOutputs { get; init; } = [];

    /// <summary>The nodes to cut a TensorFlow graph at, which become its inputs (transform_graph's --inputs).</summary>
    public IReadOnlyList<string> TfInputs { get; init; } = [];

    /// <summary>The checkpoint to freeze a MetaGraphDef (.meta, saved_model.pb) with: its variables become constants.</summary>
    public string? TfCheckpoint { get; init; }

    /// <summary>The reader mopt picks for <paramref name="path"/> (<c>ModelReaders.For</c>), configured with these options.</summary>
    public IModelReader ReaderFor(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var reader = ModelReaders.For(path);
        if (TfCheckpoint is not null && reader is not TfMetaGraphReader)
            throw new PipelineException($"--tf-checkpoint freezes a MetaGraphDef (.meta or saved_model.pb), not '{path}'");
        if (TfOutputs.Count > 0 || TfInputs.Count > 0 || TfCheckpoint is not null)
        {
            var tfOptions = new TfImportOptions { Outputs = TfOutputs.ToList(), Inputs = TfInputs.ToList(), Checkpoint = TfCheckpoint };
            reader = reader switch
            {
                TfModelReader => new TfModelReader(tfOptions),
                TfMetaGraphReader => new TfMetaGraphReader(tfOptions),
                _ => throw new PipelineException($"--tf-outputs and --tf-inputs apply to a TensorFlow .pb input (or .meta), not '{path}'"),
            };
        }
        if (CaffeWeights is { } caffeWeights)
            reader = reader is CaffePrototxtReader ? new CaffePrototxtReader(caffeWeights)
                : throw new PipelineException($"--caffe-weights gives the blobs of a Caffe .prototxt input, not of '{path}'");
        return reader;
    }
}
