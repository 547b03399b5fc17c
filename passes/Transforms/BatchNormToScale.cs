using Mopt.Ir;
using Mopt.Passes.BatchNorm;

namespace Mopt.Passes;

/// <summary>
/// <c>--bn-to-scale</c>: an inference BatchNormalization with constant parameters becomes a per-channel Mul and Add
/// with precomputed constants (for the BNs <c>--fold-bn</c> could not fold; run it after that pass).
/// <code>
/// Before: %y = "onnx.BatchNormalization"(%x, %scale, %B, %mean, %var) {epsilon = 1.0e-05 : f32} loc("bn")
///           : (tensor&lt;?x8x16x16xf32&gt;, ...) -> tensor&lt;?x8x16x16xf32&gt;
/// After:  %s = "onnx.Constant"() {value = dense&lt;...&gt; : tensor&lt;8x1x1xf32&gt;} loc("bn.multiplier")
///         %t = "onnx.Constant"() {value = dense&lt;...&gt; : tensor&lt;8x1x1xf32&gt;} loc("bn.offset")
///         %m = "onnx.Mul"(%x, %s) loc("bn.mul") ; %y = "onnx.Add"(%m, %t) loc("bn")
/// </code>
/// s = scale / sqrt(var + epsilon), t = B - mean * s per channel (the BN's own epsilon, computed in double, written
/// in the input's element type). The constants are shaped [C, 1, ..., 1] (rank of the input minus one) so that
/// they broadcast along axis 1; the Add keeps the BN's result type and <c>mo.outputs</c> name.
/// Conditions (otherwise skipped with the reason): as <see cref="BatchNormParams"/> (inference mode, constant
/// float parameters of C elements, var + epsilon positive), and the input's rank is known (it places the constants):
/// from the input's or the result's type, or, for an unranked input made by a Conv, ConvTranspose or Gemm, from
/// that layer (its weight's rank; 2).
/// </summary>
public sealed class BatchNormToScale : Pass
{
    public override string Name => "bn-to-scale";
    public override string Summary => "Replace inference BatchNormalization by a per-channel Mul and Add with precomputed constants";

    /// <summary>
    /// The rank of the BN's input: from its type or the BN's result type, else from the layer that makes it (a Conv's
    /// or ConvTranspose's output has its weight's rank, a Gemm's is 2), as imported models often leave it unranked.
    /// </summary>
    private static int? RankOf(Operation bn)
    {
        if (bn.GetOperand(0).Type is TensorType { IsRanked: true } xt) return xt.Rank;
        if (bn.Result.Type is TensorType { IsRanked: true } yt) return yt.Rank;
        return bn.GetOperand(0) is OpResult { Owner: var producer } ? producer.Name switch
        {
            "onnx.Conv" or "onnx.ConvTranspose" when producer.OperandCount >= 2 && producer.GetOperand(1).Type is TensorType { IsRanked: true } wt && wt.Rank >= 3 => wt.Rank,
            "onnx.Gemm" => 2,
            _ => null,
        } : null;
    }

    public override void Run(MirModule module, PassContext context)
    {
        var bns = module.AllOperations().Where(o => o.Name == BatchNormParams.OpName).ToList();
        if (bns.Count > 0) context.Count("replaced", 0);
        foreach (var bn in bns)
        {
            if (BatchNormParams.TryRead(bn, module, out var reason) is not { } affine)
            {
                context.Skip(bn, reason);
                continue;
            }
            var x = bn.GetOperand(0);
            var xt = (TensorType)x.Type;
            if (RankOf(bn) is not int rank)
            {
                context.Skip(bn, $"input {xt} has an unknown rank, so the per-channel constants cannot be shaped");
                continue;
            }
            var shape = new long[rank - 1];
            Array.Fill(shape, 1L);
            shape[0] = affine.Channels;
            var type = new TensorType(xt.Element, shape);
            var name = FloatData.NameOf(bn);
            var builder = OpBuilder.Before(bn);
            var s = Constants.Create(builder, module, type, ElementCodec.EncodeFloats(affine.Scale, type.Element),
                Location.Named(name + ".multiplier"), name + ".multiplier");
            var t = Constants.Create(builder, module, type, ElementCodec.EncodeFloats(affine.Shift, type.Element),
                Location.Named(name + ".offset"), name + ".offset");
            // The Add takes over the BN's name and output name; the Mul is named apart (ONNX node names are unique).
            var mul = builder.Create("onnx.Mul", [x, s], [bn.Result.Type], null, Location.Named(name + ".mul"));
            var addAttrs = bn.GetAttr("mo.outputs") is { } names ? new[] { new NamedAttr("mo.outputs", names) } : null;
            var add = builder.Create("onnx.Add", [mul.Result, t], [bn.Result.Type], addAttrs, bn.Location);
            bn.Result.ReplaceAllUsesWith(add.Result);
            bn.Erase();
            context.Count("replaced");
            context.Log($"replaced {name} by Mul and Add ({affine.Channels} channels)");
        }
    }
}
