namespace Mopt.Passes;

/// <summary>
/// Named, documented lists of passes: <c>--pipeline=deploy</c>, or <c>--pipeline='deploy{inputs=x outputs=y}'</c>
/// to strip the graph to those inputs and outputs first.
/// </summary>
public static class PipelineRegistry
{
    public sealed record Pipeline(string Name, string Summary, IReadOnlyList<string> Passes)
    {
        /// <summary>The steps read once (mopt-opt builds a pipeline every run).</summary>
        internal IReadOnlyList<Step> Steps { get; } = [.. Passes.Select(Step.Read)];
    }

    /// <summary>
    /// A step of a pipeline: <c>name</c>, <c>name{options}</c>, either with a trailing '*' when it also takes the
    /// pipeline's options; its options split into pairs once (a pipeline is built on every run).
    /// </summary>
    internal readonly record struct Step(string Text, string Pass, (string Key, string Value)[]? Options, bool TakesPipelineOptions)
    {
        public static Step Read(string text)
        {
            bool takes = text.EndsWith('*');
            var body = takes ? text[..^1] : text;
            int brace = body.IndexOf('{');
            return brace < 0 ? new(text, body, null, takes) : new(text, body[..brace], [.. PipelineParser.SplitOptions(body[(brace + 1)..^1])], takes);
        }
    }

    /// <summary>What <c>deploy</c> runs after the optional strip-unused, in order.</summary>
    public static readonly IReadOnlyList<string> DeployPasses =
    [
        // A Caffe net's BatchNorm+Scale pairs merge into their layers in the caffe dialect first (the same folded layer
        // fold-bn would make, with half the ops left to lower: 5-13% of landmark106's and yoloface's deploy; on any other
        // module it finds nothing and changes nothing). A Caffe or TensorFlow net is lowered next: the passes after it work on onnx.*. Shapes next, so that shape computations (Shape -> Gather -> Concat -> Reshape) fold to constants. A BN that
        // fold-bn leaves becomes Mul + Add only when fuse-conv-add-mul then folds both: one BN runs faster than the two.
        "caffe-merge-bn", "convert-to-onnx", "infer-shapes{on-conflict=keep}", "canonicalize", "fold-constants", "cse", "fuse-pad", "fold-bn", "bn-to-scale{only-if-fusable=true}",
        "fuse-conv-add-mul", "fuse-matmul-add", "dce", "sort-by-execution-order",
    ];

    /// <summary>tf-deploy's passes; a step ending in '*' also takes the pipeline's options (shape=..., type=...).</summary>
    public static readonly IReadOnlyList<string> TfDeployPasses =
    [
        "tf-strip-unused-nodes{type=float}*", "tf-remove-nodes{op=Identity,CheckNumerics}", "tf-fold-constants{ignore-errors=true}",
        "tf-fold-batch-norms", "tf-fold-old-batch-norms",
    ];

    public static IReadOnlyList<Pipeline> All { get; } =
    [
        new("deploy", "Clean up and fuse for inference: " + string.Join(", ", DeployPasses) + " (strip-unused first when inputs/outputs are given)",
            ["strip-unused?", .. DeployPasses]),
        new("quantize-weights", "deploy, then int8 weight quantization (quantize-weights)",
            ["strip-unused?", .. DeployPasses, "quantize-weights", "dce"]),
        // TensorFlow graphs in tf.*: the transform lists of the Graph Transform Tool's README, for an input shape.
        new("tf-deploy", "TensorFlow, transform_graph's 'Optimizing for Deployment': strip_unused_nodes(type=float, shape), " +
            "remove_nodes(op=Identity, op=CheckNumerics), fold_constants(ignore_errors=true), fold_batch_norms, fold_old_batch_norms " +
            "(--pipeline='tf-deploy{shape=1,299,299,3}')", TfDeployPasses),
        new("tf-fix-missing-kernels", "TensorFlow, transform_graph's 'Fixing Missing Kernel Errors on Mobile': tf-deploy without remove_nodes",
            [TfDeployPasses[0], .. TfDeployPasses.Skip(2)]),
        new("tf-quantize-weights", "TensorFlow: tf-deploy, then quantize_weights (eight-bit Consts), strip_unused_nodes, sort_by_execution_order",
            [.. TfDeployPasses, "tf-quantize-weights", "tf-strip-unused-nodes", "tf-sort-by-execution-order"]),
    ];

    public static Pipeline? Find(string name)
    {
        // A loop, not LINQ: asked on every mopt-opt run with --pipeline.
        foreach (var pipeline in All)
            if (pipeline.Name == name) return pipeline;
        return null;
    }

    /// <summary>The passes of <c>NAME</c> or <c>NAME{inputs=... outputs=...}</c>.</summary>
    public static List<Pass> Build(string spec)
    {
        int brace = spec.IndexOf('{');
        var name = (brace >= 0 ? spec[..brace] : spec).Trim();
        string? options = null;
        if (brace >= 0)
        {
            if (!spec.EndsWith('}')) throw new PipelineException($"--pipeline={spec}: the '{{' is never closed");
            options = spec[(brace + 1)..^1];
        }
        var pipeline = Find(name) ?? throw new PipelineException($"unknown pipeline '{name}' (see --list-pipelines)");

        var passes = new List<Pass>(pipeline.Steps.Count);
        foreach (var step in pipeline.Steps)
        {
            if (step.Text == "strip-unused?")
            {
                // Only when the user named inputs or outputs: otherwise the graph's interface stays.
                if (!string.IsNullOrWhiteSpace(options)) passes.Add(PassRegistry.Create("strip-unused", options));
                continue;
            }
            var entry = PassRegistry.Find(step.Pass)
                ?? throw new PipelineException($"pipeline '{name}' needs the pass '{step.Pass}', which this build of mopt does not have");
            var pass = entry.Create();
            if (step.Options is { } pairs) pass.SetOptionsFromPairs(pairs);
            if (step.TakesPipelineOptions && !string.IsNullOrWhiteSpace(options)) pass.SetOptions(options);
            passes.Add(pass);
        }
        return passes;
    }
}
