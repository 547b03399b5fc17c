namespace Mopt.Api;

/// <summary>
/// The two calls of the seed's ModelQuantization, which wrapped TensorFlow's Graph Transform Tool: transform_graph and
/// summarize_graph, with their parameters, done by mopt (docs/formats/tensorflow.md has the transforms).
/// </summary>
public static class GraphTransformTool
{
    /// <summary>
    /// transform_graph: reads the graph at <paramref name="path"/> (a TensorFlow .pb, or any model mopt reads), cut at
    /// <paramref name="inputs"/> with <paramref name="outputs"/> as its outputs (either may be empty: the graph's own),
    /// runs <paramref name="transforms"/> (<c>strip_unused_nodes fold_constants(ignore_errors=true) fold_batch_norms</c>)
    /// and writes the result to <paramref name="saveDir"/>/<paramref name="fileName"/> (made if missing), in the format of
    /// its extension. Returns the path written.
    /// </summary>
    public static string TransformGraph(string path, string saveDir, string fileName, IEnumerable<string> inputs, IEnumerable<string> outputs, string transforms)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(saveDir);
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(transforms);
        var pipeline = Pipeline.GraphTransforms(transforms); // a bad transform string fails before anything is read
        var model = Model.Load(path, new LoadOptions { TfInputs = inputs.ToArray(), TfOutputs = outputs.ToArray() });
        var output = System.IO.Path.Combine(saveDir, fileName);
        model.Run(pipeline, new PipelineOptions { WritesTo = output });
        Directory.CreateDirectory(saveDir);
        model.Save(output);
        return output;
    }

    /// <summary>summarize_graph: the inputs, outputs, parameters and op types of the model at <paramref name="path"/>, and the command lines to deploy it, as text.</summary>
    public static string SummarizeGraph(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Model.Load(path).Summarize().Text;
    }
}
