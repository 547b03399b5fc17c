using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// <c>--tf-fold-old-batch-norms</c>, the Graph Transform Tool's <c>fold_old_batch_norms</c>
/// (tensorflow/tools/graph_transforms/fold_old_batch_norms.cc): an inference batch norm after a Conv2D,
/// DepthwiseConv2dNative or MatMul with constant weights becomes scaled weights and a BiasAdd of the offset.
/// <code>
/// Before: %c = "tf.Conv2D"(%x, %w) loc("conv")
///         %y = "tf.FusedBatchNorm"(%c, %gamma, %beta, %mean, %var) {epsilon = 1.0e-3, is_training = false} loc("bn")
/// After:  %c = "tf.Conv2D"(%x, %w') loc("conv") ; %o = "tf.Const"() loc("conv_bn_offset")
///         %y = "tf.BiasAdd"(%c, %o) loc("bn")
/// </code>
/// s[c] = gamma[c] / sqrt(var[c] + epsilon) and t[c] = beta[c] - mean[c] · s[c] (in double, rounded once); the
/// weights of output channel c are multiplied by s[c] (<see cref="TfLayer"/>), and the offset t is added by a new
/// BiasAdd named after the batch norm (data_format and T from the layer), or, when the layer already has a bias
/// (BiasAdd, or Add of a constant [C] vector, as the KWS graphs have), that bias becomes b·s + t and takes the batch
/// norm's name. The batch norms:
/// <list type="bullet">
/// <item><c>FusedBatchNorm</c>, <c>FusedBatchNormV2</c>, <c>FusedBatchNormV3</c> with <c>is_training = false</c>
///   (absent means true: not folded), inputs (x, scale, offset, mean, variance), <c>epsilon</c> (default 1e-4), and
///   a <c>data_format</c> (default NHWC) whose channel axis is the layer's; only its first output read;</item>
/// <item><c>BatchNormWithGlobalNormalization</c>: inputs (t, mean, variance, beta, gamma), <c>variance_epsilon</c>,
///   and gamma used only when <c>scale_after_normalization</c>;</item>
/// <item>the batch norm written out as separate ops, <c>Add(Mul(h, S), T)</c> with S and T constant [C] vectors (or
///   what mopt evaluates from Consts: <c>Rsqrt(var + eps) · gamma</c>, <c>beta - mean · S</c>), h the layer's output
///   in NHWC or a MatMul's.</item>
/// </list>
/// Conditions, beyond transform_graph's (which needs every parameter a Const and the batch norm right after a
/// Conv2D): the parameters may be anything mopt evaluates from Consts (an Identity of a Const); the layer may be a
/// DepthwiseConv2dNative or MatMul and may have a bias; the layer (and bias) feed only the batch norm, are not graph
/// outputs and have no control inputs; the batch norm has none either. Repeated until nothing changes. A batch norm
/// that does not fold is said, with the reason, under --debug.
/// </summary>
public sealed class TfFoldOldBatchNorms : Pass
{
    public override string Name => "tf-fold-old-batch-norms";
    public override string Summary => "TensorFlow: fold FusedBatchNorm/BatchNormWithGlobalNormalization and written-out batch norms into the layer before them (GTT fold_old_batch_norms)";

    public override void Run(MirModule module, PassContext context)
    {
        if (!TfGraph.Applies(module, Name)) return;
        var func = module.MainFunction;
        bool changed;
        do
        {
            changed = false;
            var eval = new TfConstEval(module, context.Dialects);
            foreach (var op in func.Body.Operations.ToList())
            {
                if (op.Parent is null || op.Dialect != TfDialect.Name) continue;
                bool folded = op.OpType switch
                {
                    "FusedBatchNorm" or "FusedBatchNormV2" or "FusedBatchNormV3" or "BatchNormWithGlobalNormalization" => FoldBatchNorm(op, func, module, eval, context),
                    "Add" or "AddV2" => FoldWrittenOut(op, func, module, eval, context),
                    _ => false,
                };
                if (!folded) continue;
                context.Count("batch norms folded");
                changed = true;
            }
        } while (changed);
    }

    private static bool FoldBatchNorm(Operation bn, FuncOp func, MirModule module, TfConstEval eval, PassContext context)
    {
        bool fused = bn.OpType != "BatchNormWithGlobalNormalization";
        if (bn.OperandCount != 5) return Skip(bn, $"it has {bn.OperandCount} inputs, not 5", context);
        if (fused && TfGraph.Bool(bn, "is_training", true)) return Skip(bn, "is_training is not false: it normalizes by the batch's own statistics", context);
        if (bn.Results.Skip(1).Any(r => r.HasUses)) return Skip(bn, "its batch statistics outputs are read", context);
        if (TfGraph.HasControlInputs(bn)) return Skip(bn, "it has control inputs", context);
        if (TfLayer.Analyze(bn.GetOperand(0), bn, func, eval, out var why) is not { } layer) return Skip(bn, why, context);
        if (fused && (TfGraph.Str(bn, "data_format", "NHWC") == "NHWC") != layer.ChannelLast)
            return Skip(bn, $"its data_format {TfGraph.Str(bn, "data_format", "NHWC")} normalizes another axis than {TfLayer.Describe(layer.Op)}'s channels", context);
        if (!fused && !layer.ChannelLast) return Skip(bn, $"it normalizes the last axis, but {TfLayer.Describe(layer.Op)} is NCHW", context);
        long c = layer.Channels;
        var (gi, bi, mi, vi) = fused ? (1, 2, 3, 4) : (4, 3, 1, 2);
        var gamma = eval.Vector(bn.GetOperand(gi), c);
        var beta = eval.Vector(bn.GetOperand(bi), c);
        var mean = eval.Vector(bn.GetOperand(mi), c);
        var variance = eval.Vector(bn.GetOperand(vi), c);
        if (gamma is null || beta is null || mean is null || variance is null)
            return Skip(bn, $"its scale, offset, mean and variance are not all constant float vectors of {c} (the output channels of {TfLayer.Describe(layer.Op)})", context);
        double epsilon = fused ? bn.GetFloat("epsilon") ?? 1e-4 : bn.GetFloat("variance_epsilon") ?? 0;
        bool useGamma = !fused ? TfGraph.Bool(bn, "scale_after_normalization", false) : true;
        var scale = new double[c];
        var shift = new double[c];
        for (int i = 0; i < c; i++)
        {
            // epsilon is an f32 attribute: TensorFlow adds it as a float.
            scale[i] = 1.0 / Math.Sqrt(variance[i] + (float)epsilon) * (useGamma ? gamma[i] : 1.0);
            shift[i] = beta[i] - mean[i] * scale[i];
        }
        context.Log($"folded {TfLayer.Describe(bn)} into {TfLayer.Describe(layer.Op)}");
        layer.Fold(scale, shift, bn, func, module);
        return true;
    }

    /// <summary>Add(Mul(h, S), T): a batch norm as separate ops, once S and T are constant.</summary>
    private static bool FoldWrittenOut(Operation add, FuncOp func, MirModule module, TfConstEval eval, PassContext context)
    {
        if (add.OperandCount != 2 || add.Results.Count != 1 || !TfGraph.IsOp(add.GetOperand(0), "Mul", out var mul) || mul.OperandCount != 2) return false;
        var h = mul.GetOperand(0);
        bool afterLayer = TfGraph.IsOp(h, TfLayer.LayerOps, out _) ||
                          TfGraph.IsOp(h, "BiasAdd|Add|AddV2", out var bias) && TfGraph.IsOp(bias.GetOperand(0), TfLayer.LayerOps, out _);
        if (!afterLayer) return false;
        if (eval.Evaluate(mul.GetOperand(1)) is not { Type: { Element.IsFloat: true, Shape: [var n] } } || eval.Vector(add.GetOperand(1), n) is null)
            return false; // not a batch norm: a Mul and Add of something that is not constant vectors
        if (TfGraph.HasControlInputs(add) || TfGraph.HasControlInputs(mul)) return Skip(add, "it or its Mul has control inputs", context);
        if (mul.Results.Count != 1 || mul.Result.Users.Any(u => u != add) || TfGraph.OutputNodes(func).Contains(mul))
            return Skip(add, $"{TfLayer.Describe(mul)} also feeds other nodes", context);
        if (TfLayer.Analyze(h, mul, func, eval, out var why) is not { } layer) return Skip(add, why, context);
        if (!layer.ChannelLast) return Skip(add, $"{TfLayer.Describe(layer.Op)} is NCHW: the [C] vectors scale its last axis, not its channels", context);
        var scale = eval.Vector(mul.GetOperand(1), layer.Channels);
        var shift = eval.Vector(add.GetOperand(1), layer.Channels);
        if (scale is null || shift is null) return Skip(add, $"its scale and offset are not vectors of {layer.Channels} (the output channels of {TfLayer.Describe(layer.Op)})", context);
        context.Log($"folded the batch norm {TfLayer.Describe(mul)} + {TfLayer.Describe(add)} into {TfLayer.Describe(layer.Op)}");
        layer.Fold(scale, shift, add, func, module);
        return true;
    }

    private static bool Skip(Operation op, string reason, PassContext context)
    {
        context.Skip(op, reason);
        return false;
    }
}
