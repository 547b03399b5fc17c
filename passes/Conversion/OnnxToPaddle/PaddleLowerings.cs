using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>The lowerings a module needs before it can be written as Paddle (the counterpart of <see cref="OnnxLowerings"/>).</summary>
public static class PaddleLowerings
{
    /// <summary>
    /// TensorFlow and Caffe to ONNX (a <c>paddle.*</c> module is not taken through ONNX), then infer-shapes (Paddle's vars
    /// are typed; the lowering reads ranks and sizes) and <see cref="ConvertOnnxToPaddle"/>, unless <paramref name="planned"/> has it.
    /// </summary>
    public static IEnumerable<Pass> Needed(MirModule module, IEnumerable<Pass>? planned = null)
    {
        var have = planned?.ToList() ?? [];
        foreach (var lowering in OnnxLowerings.Needed(module, have))
            if (lowering is not ConvertPaddleToOnnx) yield return lowering;
        if (have.Any(p => p is ConvertOnnxToPaddle)) yield break;
        yield return new InferShapes();
        yield return new ConvertOnnxToPaddle();
    }
}
