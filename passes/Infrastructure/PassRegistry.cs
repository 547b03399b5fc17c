namespace Mopt.Passes;

/// <summary>Every pass mopt knows, by command-line name. A new pass is one line here.</summary>
public static class PassRegistry
{
    public sealed record Entry(string Name, string Summary, Func<Pass> Create);

    private static readonly Func<Pass>[] Factories =
    [
        () => new Canonicalize(),
        () => new DeadCodeElimination(),
        () => new SortByExecutionOrder(),
        () => new StripUnused(),
        () => new SetInputShape(),
        () => new InferShapes(),
        () => new FoldBatchNorm(),
        () => new BatchNormToScale(),
        () => new FuseConvAddMul(),
        () => new FusePad(),
        () => new FuseMatMulAdd(),
        () => new ReorderSlices(),
        () => new RoundWeights(),
        () => new Pruning.PruneChannels(),
        () => new Pruning.PruneSensitivity(),
        () => new Quantization.QuantizeInt8(),
        () => new FoldConstants(),
        () => new DedupeConstants(),
        () => new CommonSubexpressionElimination(),
        () => new Quantization.QuantizeWeights(),
        () => new Conversion.ConvertTfToOnnx(),
        () => new Conversion.ConvertCaffeToOnnx(),
        () => new Conversion.ConvertPaddleToOnnx(),
        () => new Conversion.ConvertOnnxToPaddle(),
        () => new Conversion.ConvertAllToOnnx(),
        () => new Caffe.MergeBatchNorm(),
        () => new OptimizeTransposes(),
        .. Tf.TfTransformPasses.Factories,
    ];

    public static IReadOnlyList<Entry> All { get; } = Factories
        .Select(f => { var p = f(); return new Entry(p.Name, p.Summary, f); })
        .OrderBy(e => e.Name, StringComparer.Ordinal)
        .ToArray();

    // Every pass in a pipeline string is looked up by name, on every run: by hash, not a scan of ~80 entries.
    private static readonly Dictionary<string, Entry> ByName = All.ToDictionary(e => e.Name, StringComparer.Ordinal);

    public static Entry? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>A fresh pass named <paramref name="name"/>, with options set from <paramref name="options"/> (<c>k=v k2=v2</c>).</summary>
    public static Pass Create(string name, string? options = null)
    {
        var entry = Find(name) ?? throw new PipelineException($"unknown pass '{name}' (see --list-passes)") { UnknownPass = name };
        var pass = entry.Create();
        if (!string.IsNullOrWhiteSpace(options)) pass.SetOptions(options);
        return pass;
    }
}

/// <summary>A bad pass name, option or pipeline string: a user error.</summary>
public sealed class PipelineException(string message) : Exception(message)
{
    /// <summary>The pass name that is not registered, when that is the error (the library API lists the known ones).</summary>
    public string? UnknownPass { get; init; }
}
