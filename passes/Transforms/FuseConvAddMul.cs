using Mopt.Ir;
using Mopt.Passes.BatchNorm;

namespace Mopt.Passes;

/// <summary>
/// <c>--fuse-conv-add-mul</c>: a constant per-channel Mul, Add, Sub or Div after a Conv, ConvTranspose, Gemm (or a
/// Mul/Div after a MatMul with a constant 2-D weight) is folded into the layer's weight and bias: what remains of a
/// BatchNormalization after <c>--bn-to-scale</c>, and what TensorFlow graphs contain (BiasAdd, Mul, Add).
/// <code>
/// Before: %c = "onnx.Conv"(%x, %w, %b) loc("conv") ; %m = "onnx.Mul"(%c, %s) loc("mul") ; %y = "onnx.Add"(%m, %t) loc("add")
/// After:  %y = "onnx.Conv"(%x, %w', %b') loc(fused["conv", "mul", "add"])
/// </code>
/// For a constant c broadcast to one value per output channel m:
/// <c>Mul</c>: W'[m] = W[m] * c[m], b'[m] = b[m] * c[m]; <c>Add</c>: b'[m] = b[m] + c[m] (a bias is created when the
/// layer has none); <c>Sub</c>: layer - c as Add of -c, c - layer as Mul by -1 then Add of c; <c>Div</c> (layer / c):
/// as Mul by 1 / c[m].
/// Gemm: B's output columns and C (beta folded in, beta' = 1); MatMul: W's output columns (or rows for MatMul(W, x)).
/// Conditions (otherwise skipped with the reason, see <c>--debug</c>): the constant is a float tensor of the
/// layer's element type whose shape, right-aligned with the layer's output, is 1 everywhere except, optionally,
/// the channel axis (1 for Conv and Gemm; the last axis of MatMul(x, W)) where it is the channel count; its rank is
/// not above the output's (so the result keeps its shape); a Div has no zero divisor; the layer's weight (and bias)
/// are constant; nothing else reads the layer's output. An Add or Sub after a MatMul is left alone (no bias to fold
/// into). A Div is folded only with the layer's output as its first operand. The old weights, the layer and the
/// constant are erased once nothing reads them; each op is a pattern root of the greedy driver, so a chain
/// (Conv, Mul, Add) folds one op after the other, and a skip is reported only for an op still there at the end.
/// </summary>
public sealed class FuseConvAddMul : Pass
{
    public override string Name => "fuse-conv-add-mul";
    public override string Summary => "Fold constant per-channel Mul/Add/Sub/Div after a Conv, ConvTranspose, Gemm or MatMul into its weights and bias";

    private static readonly string[] Roots = ["onnx.Mul", "onnx.Add", "onnx.Sub", "onnx.Div"];

    public override void Run(MirModule module, PassContext context)
    {
        // "0 folded" next to the skips when there was something to fold and nothing folded (a walk only when statistics are read).
        if (!context.OpNamesAtStart(module).ContainsAny(Roots))
        {
            context.MarkAllPreserved();
            return;
        }
        if (context.StatisticsWanted && module.AnyOperation(op => Roots.Contains(op.Name) && CandidateLayer(op, context.Dialects) is not null))
            context.Count("folded", 0);
        if (GreedyPatternRewriteDriver.Apply(module, Roots.Select(r => new FoldIntoLayer(r)).ToList(), context, Name) == 0) context.MarkAllPreserved();
    }

    /// <summary>The operand index of the layer output <paramref name="op"/> reads with a constant, or null when it is not a candidate at all.</summary>
    private static int? CandidateLayer(Operation op, DialectRegistry registry)
    {
        if (op.OperandCount != 2 || op.Results.Count != 1) return null;
        bool ordered = op.Name == "onnx.Div";
        for (int i = 0; i < (ordered ? 1 : 2); i++)
            if (op.GetOperand(i) is OpResult { Owner: var p } && LayerFolding.IsLayer(p, registry) && Constants.IsConstant(op.GetOperand(1 - i)))
            {
                // MatMul has no bias to take an Add or Sub.
                if (p.OpType == "MatMul" && op.Name is "onnx.Add" or "onnx.Sub") return null;
                return i;
            }
        return null;
    }

    private sealed class FoldIntoLayer(string root) : RewritePattern
    {
        public override string Name => "folded";
        public override string? Root => root;

        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            var module = rewriter.Module;
            if (CandidateLayer(op, rewriter.Registry) is not int layerIndex) return false;
            var producer = ((OpResult)op.GetOperand(layerIndex)).Owner;

            if (LayerFolding.Analyze(producer, module, rewriter.Registry, out var why) is not { } layer) return rewriter.NotifyMatchFailure(producer, why);
            int axis = layer.FeatureAxis;
            if (axis < 0) return rewriter.NotifyMatchFailure(producer, "output rank unknown, so its channel axis is unknown");
            if (FloatData.TryRead(op.GetOperand(1 - layerIndex), module, "the constant", out var ct, out why) is not { } c) return rewriter.NotifyMatchFailure(op, why!);
            var outType = producer.Result.Type as TensorType;
            if (outType is null || ct!.Type.Element != outType.Element)
                return rewriter.NotifyMatchFailure(op, $"constant {ct!.Type} and {FloatData.NameOf(producer)}'s output {producer.Result.Type} differ in element type");
            var shape = ct.Type.Shape!;
            if (shape.Count > layer.OutputRank)
                return rewriter.NotifyMatchFailure(op, $"constant {ct.Type} has a higher rank than {FloatData.NameOf(producer)}'s output: broadcasting would change its shape");
            for (int i = 0; i < shape.Count; i++)
            {
                int outAxis = layer.OutputRank - shape.Count + i;
                if (shape[i] != 1 && !(outAxis == axis && shape[i] == layer.Channels))
                    return rewriter.NotifyMatchFailure(op, $"constant {ct.Type} is not per-channel (one value per channel on axis {axis} of {producer.Result.Type})");
            }
            var perChannel = c.Length == layer.Channels ? c : Enumerable.Repeat(c[0], layer.Channels).ToArray();
            ChannelAffine affine;
            switch (op.Name)
            {
                case "onnx.Mul": affine = ChannelAffine.Multiply(perChannel); break;
                case "onnx.Add": affine = ChannelAffine.Offset(perChannel); break;
                case "onnx.Sub" when layerIndex == 0: affine = ChannelAffine.Offset(perChannel.Select(v => -v).ToArray()); break;
                case "onnx.Sub": affine = new ChannelAffine(Enumerable.Repeat(-1.0, layer.Channels).ToArray(), perChannel); break;
                default:
                    int zero = Array.IndexOf(perChannel, 0.0);
                    if (zero >= 0) return rewriter.NotifyMatchFailure(op, $"divides channel {zero} by zero");
                    affine = ChannelAffine.Multiply(perChannel.Select(v => 1 / v).ToArray());
                    break;
            }
            if (LayerFolding.OtherUser(layer, [op]) is { } shared)
                return rewriter.NotifyMatchFailure(producer, $"its output also feeds {FloatData.Describe(shared)}, which would see the folded values");

            var name = FloatData.NameOf(op);
            var opName = op.Name;
            LayerFolding.Fold(layer, affine, [op], rewriter);
            if (rewriter.IsLogging) rewriter.Log($"folded {opName} {name} into {producer.Name} {layer.Name}");
            return true;
        }
    }
}
