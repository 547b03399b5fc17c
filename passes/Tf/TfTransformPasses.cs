namespace Mopt.Passes.Tf;

/// <summary>The passes that do the Graph Transform Tool's transforms on a module in tf.*, for the pass registry.</summary>
public static class TfTransformPasses
{
    public static readonly Func<Pass>[] Factories =
    [
        () => new TfStripUnusedNodes(),
        () => new TfRemoveNodes(),
        () => new TfFoldConstants(),
        () => new TfFoldBatchNorms(),
        () => new TfFoldOldBatchNorms(),
        () => new TfQuantizeWeights(),
        () => new TfRoundWeights(),
        () => new TfMergeDuplicateNodes(),
        () => new TfSortByExecutionOrder(),
        () => new TfRemoveDevice(),
        () => new TfObfuscateNames(),
    ];
}
