namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-transforms='...'</c>: the Graph Transform Tool's transform names, each mapped to the mopt pass that does
/// it, with its parameters (docs/formats/tensorflow.md has the table). Every transform takes <c>ignore_errors</c>,
/// as in transform_graph; the passes skip what they cannot do (and say why under --debug) rather than fail, so it
/// matters to fold_constants only.
/// </summary>
public static class GttTransforms
{
    private sealed record Entry(string Name, string PassName, string[] Parameters, Func<GttTransform, Pass> Create);

    private static readonly Entry[] Known =
    [
        new("strip_unused_nodes", "tf-strip-unused-nodes", ["type", "shape", "name", "type_for_name", "shape_for_name"], t => new TfStripUnusedNodes().Configure(t)),
        new("remove_nodes", "tf-remove-nodes", ["op", "max_inputs"], t => new TfRemoveNodes().Configure(t)),
        new("fold_constants", "tf-fold-constants", [], t => new TfFoldConstants().Configure(t)),
        new("fold_batch_norms", "tf-fold-batch-norms", [], _ => new TfFoldBatchNorms()),
        new("fold_old_batch_norms", "tf-fold-old-batch-norms", [], _ => new TfFoldOldBatchNorms()),
        new("quantize_weights", "tf-quantize-weights", ["minimum_size"], t => new TfQuantizeWeights().Configure(t)),
        new("round_weights", "tf-round-weights", ["num_steps"], t => new TfRoundWeights().Configure(t)),
        new("merge_duplicate_nodes", "tf-merge-duplicate-nodes", [], _ => new TfMergeDuplicateNodes()),
        new("sort_by_execution_order", "tf-sort-by-execution-order", [], _ => new TfSortByExecutionOrder()),
        new("remove_device", "tf-remove-device", [], _ => new TfRemoveDevice()),
        new("obfuscate_names", "tf-obfuscate-names", [], _ => new TfObfuscateNames()),
        // The README's spelling, which older transform_graph builds also registered.
        new("obsfucate_names", "tf-obfuscate-names", [], _ => new TfObfuscateNames()),
    ];

    /// <summary>The transform names mopt knows, and the pass each runs, for --help and the docs.</summary>
    public static IReadOnlyList<(string Transform, string Pass)> Names => Known.Select(e => (e.Name, e.PassName)).ToArray();

    /// <summary>The passes of a transform string, in order; a bad string or an unknown transform is a <see cref="PipelineException"/>.</summary>
    public static List<Pass> Build(string text)
    {
        var transforms = GttTransformList.Parse(text);
        if (transforms.Count == 0) throw new PipelineException("--tf-transforms: no transform given (e.g. --tf-transforms='fold_constants(ignore_errors=true) fold_batch_norms')");
        var passes = new List<Pass>();
        foreach (var t in transforms)
        {
            var entry = Known.FirstOrDefault(e => e.Name == t.Name)
                ?? throw GttTransformList.Error(text, t.Offset, $"unknown transform '{t.Name}'; mopt knows: {string.Join(", ", Known.Select(e => e.Name).Where(n => n != "obsfucate_names"))}");
            foreach (var (key, _) in t.Parameters)
                if (key != "ignore_errors" && !entry.Parameters.Contains(key))
                    throw GttTransformList.Error(text, t.Offset, $"{t.Name} has no parameter '{key}'{(entry.Parameters.Length > 0 ? $" (it takes: {string.Join(", ", entry.Parameters)})" : " (it takes none)")}");
            if (t.One("ignore_errors") is { } ignore && ignore.ToLowerInvariant() is not ("true" or "false"))
                throw GttTransformList.Error(text, t.Offset, $"ignore_errors should be true or false, found '{ignore}'");
            try { passes.Add(entry.Create(t)); }
            catch (PipelineException e) when (!e.Message.StartsWith("--tf-transforms", StringComparison.Ordinal))
            {
                throw GttTransformList.Error(text, t.Offset, $"{t.Name}: {e.Message}");
            }
        }
        return passes;
    }
}
