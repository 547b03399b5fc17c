using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>The lowerings a module needs before it can be written as ONNX (one per source dialect it holds).</summary>
public static class OnnxLowerings
{
    /// <summary>A fresh lowering pass for each source dialect in <paramref name="module"/> that <paramref name="planned"/> does not already lower.</summary>
    public static IEnumerable<Pass> Needed(MirModule module, IEnumerable<Pass>? planned = null)
    {
        var have = planned?.ToList() ?? [];
        if (have.Any(p => p is ConvertAllToOnnx)) yield break; // --pipeline=deploy lowers every dialect itself
        if (ConvertTfToOnnx.Needed(module) && !have.Any(p => p is ConvertTfToOnnx)) yield return new ConvertTfToOnnx();
        if (ConvertCaffeToOnnx.Needed(module) && !have.Any(p => p is ConvertCaffeToOnnx)) yield return new ConvertCaffeToOnnx();
        if (ConvertPaddleToOnnx.Needed(module) && !have.Any(p => p is ConvertPaddleToOnnx)) yield return new ConvertPaddleToOnnx();
    }
}
