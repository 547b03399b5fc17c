using Mopt.Ir;
using Mopt.Passes;
using Mopt.Passes.Conversion;

namespace Mopt.Api;

/// <summary>The conversions a model needs to be written in the format of an output path, as mopt-opt adds them for <c>-o</c>.</summary>
internal static class OutputLowerings
{
    private static bool WritesOnnx(string output) => FileNames.HasExtension(output, ".onnx");

    // The writer that will write it: a path another format claims by its extension (.prototxt, .mir) is not asked whether
    // it is a Paddle folder, a stat of the output on every write.
    private static bool WritesPaddle(string output) =>
        Mopt.Backend.ModelWriters.Find(output, Mopt.Ir.Printing.PrintOptions.Default) is Mopt.Backend.Paddle.PaddleModelWriter or Mopt.Backend.PaddleLite.LiteModelWriter;

    /// <summary>Adds to <paramref name="passes"/> (a pipeline about to run on <paramref name="module"/>) what writing <paramref name="output"/> needs.</summary>
    public static void AddTo(List<Pass> passes, MirModule module, string output)
    {
        // An .onnx path is not asked whether it is a Paddle folder: that was a stat of the output on every write.
        bool onnx = WritesOnnx(output), paddle = !onnx && WritesPaddle(output);
        // fold-bn folds onnx.BatchNormalization: a model written as ONNX or Paddle is lowered just before it instead of at the end (`in.pdmodel --fold-bn -o out.pdmodel`).
        int foldBn = passes.FindIndex(p => p is FoldBatchNorm);
        if ((onnx || paddle) && foldBn >= 0 && OnnxLowerings.Needed(module, passes.Take(foldBn)).Any())
            passes.Insert(foldBn, new ConvertAllToOnnx());
        // A TensorFlow or Caffe net written as ONNX is lowered first, as if --convert-tf-to-onnx (or -caffe-) ended the pipeline.
        if (onnx) passes.AddRange(OnnxLowerings.Needed(module, passes.ToList()));
        // Anything else written as Paddle (or Paddle-Lite's .nb): TensorFlow and Caffe to ONNX first, then ONNX to Paddle (a paddle.* module is left as it is).
        if (paddle) passes.AddRange(PaddleLowerings.Needed(module, passes.ToList()));
    }

    /// <summary>What writing <paramref name="output"/> needs that <paramref name="module"/> has not had: nothing after a pipeline run with WritesTo.</summary>
    public static List<Pass> For(MirModule module, string output)
    {
        var passes = new List<Pass>();
        AddTo(passes, module, output);
        return passes;
    }
}
