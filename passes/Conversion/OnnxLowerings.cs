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
        var (tf, caffe, paddle) = SourceDialects(module);
        if (tf && !have.Any(p => p is ConvertTfToOnnx)) yield return new ConvertTfToOnnx();
        if (caffe && !have.Any(p => p is ConvertCaffeToOnnx)) yield return new ConvertCaffeToOnnx();
        if (paddle && !have.Any(p => p is ConvertPaddleToOnnx)) yield return new ConvertPaddleToOnnx();
    }

    /// <summary>Which source dialects the module's operations are of, in one walk (not one per dialect: this runs on every lowering and every write as ONNX).</summary>
    internal static (bool Tf, bool Caffe, bool Paddle) SourceDialects(MirModule module)
    {
        bool tf = false, caffe = false, paddle = false;
        module.AnyOperation(op =>
        {
            var name = op.Name;
            if (name.StartsWith(ConvertTfToOnnx.DialectPrefix, StringComparison.Ordinal)) tf = true;
            else if (name.StartsWith(ConvertCaffeToOnnx.DialectPrefix, StringComparison.Ordinal)) caffe = true;
            else if (name.StartsWith(ConvertPaddleToOnnx.DialectPrefix, StringComparison.Ordinal)) paddle = true;
            return tf && caffe && paddle;
        });
        return (tf, caffe, paddle);
    }
}
