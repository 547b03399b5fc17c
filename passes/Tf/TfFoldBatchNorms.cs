using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-fold-batch-norms</c>, the Graph Transform Tool's <c>fold_batch_norms</c>
/// (tensorflow/tools/graph_transforms/fold_batch_norms.cc): a per-channel <c>Mul</c> by a constant right after a
/// Conv2D, DepthwiseConv2dNative or MatMul with constant weights is baked into the weights.
/// <code>
/// Before: %c = "tf.Conv2D"(%x, %w) loc("conv") ; %s = "tf.Const"() : tensor&lt;32xf32&gt; ; %m = "tf.Mul"(%c, %s) loc("bn/mul")
/// After:  %w2 = "tf.Const"() loc("w") ; %m = "tf.Conv2D"(%x, %w2) loc("bn/mul")
/// </code>
/// w'[..., c] = w[..., c] · s[c] for output channel c (see <see cref="TfLayer"/> for each layout), in double,
/// rounded once. The layer takes the Mul's name (as transform_graph does), so the graph's names and outputs stay.
/// Exact conditions: the Mul's second input is a constant float vector of C elements, C the layer's output channels
/// (transform_graph fails on another shape; mopt skips that Mul and says why); the weights are constant (a Const, or
/// what mopt evaluates from Consts, such as an Identity of one); the layer's output feeds only the Mul and is not a
/// graph output; neither has control inputs; a Conv2D or DepthwiseConv2dNative is NHWC (a [C] vector broadcasts
/// over the last axis, which in NCHW is not the channels; transform_graph folds it anyway); MatMul's transpose_b is
/// honoured (transform_graph ignores it). Also, where transform_graph stops: a bias between the layer and the Mul
/// (<c>BiasAdd</c>, or <c>Add</c> of a constant [C] vector) folds too, its bias becoming b·s.
/// </summary>
public sealed class TfFoldBatchNorms : Pass
{
    public override string Name => "tf-fold-batch-norms";
    public override string Summary => "TensorFlow: fold a per-channel Mul by a constant into the Conv2D/DepthwiseConv2dNative/MatMul before it (GTT fold_batch_norms)";

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var func = module.MainFunction;
        var eval = new TfConstEval(module, context.Dialects);
        foreach (var mul in func.Body.Operations.ToList())
        {
            if (mul.Parent is null || mul.Name != "tf.Mul" || mul.OperandCount != 2 || mul.Results.Count != 1) continue;
            var h = mul.GetOperand(0);
            bool afterLayer = TfGraph.IsOp(h, TfLayer.LayerOps, out _) ||
                              TfGraph.IsOp(h, "BiasAdd|Add|AddV2", out var add) && TfGraph.IsOp(add.GetOperand(0), TfLayer.LayerOps, out _);
            if (!afterLayer) continue;
            if (TfGraph.HasControlInputs(mul)) { context.Skip(mul, "it has control inputs"); continue; }
            if (eval.Evaluate(mul.GetOperand(1)) is not { Type.Element.IsFloat: true } s) { context.Skip(mul, "its second input is not a constant float tensor"); continue; }
            if (TfLayer.Analyze(h, mul, func, eval, out var why) is not { } layer) { context.Skip(mul, why); continue; }
            if (!layer.ChannelLast) { context.Skip(mul, $"{TfLayer.Describe(layer.Op)} is NCHW: a [C] vector multiplies its last axis, not its channels"); continue; }
            if (s.Type.Shape is not [var n] || n != layer.Channels)
            {
                context.Skip(mul, $"its constant has shape [{string.Join(",", s.Type.Shape ?? [])}], not [{layer.Channels}] (the output channels of {TfLayer.Describe(layer.Op)})");
                continue;
            }
            var scale = s.ToFloats().Select(f => (double)f).ToArray();
            context.Log($"folded {TfLayer.Describe(mul)} into {TfLayer.Describe(layer.Op)}");
            layer.Fold(scale, null, mul, func, module);
            context.Count("Muls folded");
        }
    }
}
