using Mopt.Ir;
using Mopt.Passes.BatchNorm;

namespace Mopt.Passes;

/// <summary>
/// <c>--fold-bn</c>: an inference BatchNormalization with constant parameters disappears into the layer before it
/// (Conv, ConvTranspose, Gemm, MatMul with a constant 2-D weight), or else into the Conv(s) after it.
/// <code>
/// Before: %c = "onnx.Conv"(%x, %w, %b) loc("conv") ; %y = "onnx.BatchNormalization"(%c, %g, %beta, %mu, %var) loc("bn")
/// After:  %y = "onnx.Conv"(%x, %w', %b') loc(fused["conv", "bn"])
///
/// Before: %n = "onnx.BatchNormalization"(%x, ...) loc("bn") ; %y = "onnx.Conv"(%n, %w, %b) {pads = [0, 0, 0, 0]} loc("conv")
/// After:  %y = "onnx.Conv"(%x, %w'', %b'') loc(fused["conv", "bn"])
/// </code>
/// With s = scale / sqrt(var + epsilon) and t = B - mean * s per channel (each BN's own epsilon, in double):
/// <list type="bullet">
/// <item>after a layer: output channel m of the weight is multiplied by s[m] and b'[m] = b[m] * s[m] + t[m]
/// (see <see cref="LayerFolding"/> for the ConvTranspose, Gemm and MatMul layouts; a MatMul gets an Add for t);</item>
/// <item>before a Conv: input channel c of the weight is multiplied by s[c] and
/// b''[m] = b[m] + sum over (c, kernel) of W[m, c, k] * t[c]; exact only when the Conv pads nothing (pads all zero,
/// auto_pad VALID, or SAME with a total padding of 0), since zero padding of BN(x) is not zero padding of x.</item>
/// </list>
/// Conditions (otherwise skipped with the reason): the BN is in inference mode with constant float parameters of C
/// elements (<see cref="BatchNormParams"/>); the layer's weight (and bias) are constant; its output channels are C
/// and lie on axis 1 of the BN's input (a MatMul(x, W) output of rank 2, a MatMul(W, x) output of rank 3); nothing
/// else reads the layer's output, unless every other reader is a BN computing the same map, or the option
/// <c>duplicate-shared</c> asks for a copy of the layer (located at <c>fused["bn", "conv"]</c>, as ONNX node names
/// are unique). Before a Conv: every user of the BN is a Conv reading it as its input X, with the conditions above.
/// The BN after a layer is tried first. New weights are new constants; the old ones, left unused, are erased at once
/// (and their blobs released), as are the BN and the layer it went into. The BNs are patterns run by the greedy
/// driver: a BN that could not fold is reported (with its last reason) only if it is still there at the end.
/// </summary>
public sealed class FoldBatchNorm : Pass
{
    private readonly PassOption<bool> _duplicateShared = new("duplicate-shared",
        "when the layer before a BN also feeds other ops, fold into a copy of the layer (more compute) instead of skipping", false);

    public override string Name => "fold-bn";
    public override string Summary => "Fold inference BatchNormalization into the Conv, ConvTranspose, Gemm or MatMul before it, or the Conv after it";
    public override IReadOnlyList<PassOption> Options => [_duplicateShared];

    public override void Run(MirModule module, PassContext context)
    {
        if (!context.OpNamesAtStart(module).Contains(BatchNormParams.OpName))
        {
            context.MarkAllPreserved();
            return;
        }
        context.Count("folded", 0);
        if (GreedyPatternRewriteDriver.Apply(module, [new FoldIntoLayer(_duplicateShared.Value)], context, Name) == 0) context.MarkAllPreserved();
    }

    private static bool IsBatchNorm(Operation op) => op.Name == BatchNormParams.OpName;

    /// <summary>One BN into the layer before it, else into the Convs after it.</summary>
    private sealed class FoldIntoLayer(bool duplicateShared) : RewritePattern
    {
        public override string Name => "folded";
        public override string? Root => BatchNormParams.OpName;

        public override bool MatchAndRewrite(Operation bn, PatternRewriter rewriter)
        {
            var module = rewriter.Module;
            if (BatchNormParams.TryRead(bn, module, out var why) is not { } affine) return rewriter.NotifyMatchFailure(bn, why);

            (Operation Target, string Reason)? after = null, before = null;
            if (bn.GetOperand(0) is OpResult { Owner: var producer } && LayerFolding.IsLayer(producer, rewriter.Registry))
            {
                if (TryFoldAfter(bn, producer, affine, rewriter, out var r)) return true;
                after = r;
            }
            var users = bn.Result.Users.Distinct().ToList();
            if (users.Count > 0 && users.All(u => u.Name == "onnx.Conv"))
            {
                if (TryFoldBefore(bn, users, affine, rewriter, out var r)) return true;
                before = r;
            }

            var (target, reason) = (after, before) switch
            {
                ({ } a, null) => a,
                (null, { } b) => b,
                ({ } a, { } b) => (bn, $"not into {FloatData.NameOf(a.Target)} before it ({a.Reason}) nor into {FloatData.NameOf(b.Target)} after it ({b.Reason})"),
                _ => (bn, $"nothing to fold into: its input comes from {InputDescription(bn.GetOperand(0))}, not a Conv, ConvTranspose, Gemm or MatMul, " +
                          "and its users are not all Convs"),
            };
            return rewriter.NotifyMatchFailure(target, reason);
        }

        private static string InputDescription(Value v) => v switch
        {
            OpResult r => FloatData.Describe(r.Owner),
            BlockArgument a => $"argument #{a.Index}",
            _ => "?",
        };

        // ------------------------------------------------------------------ BN after a layer

        private bool TryFoldAfter(Operation bn, Operation producer, ChannelAffine affine, PatternRewriter rewriter,
            out (Operation Target, string Reason) failure)
        {
            failure = default;
            var module = rewriter.Module;
            if (LayerFolding.Analyze(producer, module, rewriter.Registry, out var why) is not { } layer)
            {
                failure = (producer, why);
                return false;
            }
            if (layer.FeatureAxis != 1)
            {
                failure = (producer, layer.FeatureAxis < 0
                    ? "output rank unknown, so its channel axis is unknown"
                    : $"its channels are on axis {layer.FeatureAxis} of its rank-{layer.OutputRank} output, but BatchNormalization normalizes axis 1");
                return false;
            }
            if (layer.Channels != affine.Channels)
            {
                failure = (producer, $"has {layer.Channels} output channels but {FloatData.NameOf(bn)} normalizes {affine.Channels}");
                return false;
            }

            // Readers of the layer's output other than this BN see the output unchanged only if they compute the same
            // map too (a BN applied twice to the same tensor); else the layer is copied (option) or the BN stays.
            var consumers = new List<Operation> { bn };
            var uses = producer.Result.Uses;
            for (int i = 0; i < uses.Count; i++)
            {
                var user = uses[i].Owner;
                if (consumers.Contains(user)) continue; // a user reading it twice is looked at once
                if (IsBatchNorm(user) && user.GetOperand(0) == producer.Result && user.Result.Type == bn.Result.Type
                    && BatchNormParams.TryRead(user, module, out _) is { } other && other.SameAs(affine))
                    consumers.Add(user);
            }
            bool copy = false;
            if (LayerFolding.OtherUser(layer, consumers) is { } shared)
            {
                if (!duplicateShared)
                {
                    failure = (producer, $"its output also feeds {FloatData.Describe(shared)}, which would see the folded values");
                    return false;
                }
                copy = true;
                rewriter.Count("layers duplicated");
            }

            // Named before the fold erases them; only for --debug.
            var names = rewriter.IsLogging ? string.Join(", ", consumers.Select(FloatData.NameOf)) : null;
            LayerFolding.Fold(layer, affine, consumers, rewriter);
            // The driver counts this BN; the identical ones folded with it count too.
            if (consumers.Count > 1) rewriter.Count("folded", consumers.Count - 1);
            if (names is not null) rewriter.Log($"folded {names} into {producer.Name} {layer.Name}{(copy ? " (a copy of it)" : "")}");
            return true;
        }

        // ------------------------------------------------------------------ BN before Convs

        private static bool TryFoldBefore(Operation bn, List<Operation> convs, ChannelAffine affine, PatternRewriter rewriter,
            out (Operation Target, string Reason) failure)
        {
            failure = default;
            var module = rewriter.Module;
            var plans = new List<BeforeFold>();
            foreach (var conv in convs)
            {
                if (PlanBefore(bn, conv, affine, module, rewriter.Registry, out var why) is not { } plan)
                {
                    failure = (conv, why);
                    return false;
                }
                plans.Add(plan);
            }
            var x = bn.GetOperand(0);
            var bnName = FloatData.NameOf(bn);
            foreach (var plan in plans)
            {
                // Each Conv reads x with its new weight and bias in place; the BN goes with its last reader, the old
                // weights with theirs.
                var conv = plan.Conv.Op;
                rewriter.SetInsertionPointBefore(conv);
                var weightOp = Constants.DefiningConstant(conv.GetOperand(1))!;
                var newWeight = Constants.Create(rewriter.Builder, module, plan.Conv.WeightType, Constants.EncodeFloats(module, plan.Weight, plan.Conv.WeightType.Element),
                    Location.Fuse(weightOp.Location, bn.Location), LayerFolding.BlobHint(weightOp, plan.Conv.Name + ".weight"));
                Value? newBias = null;
                if (plan.Bias is { } bias)
                {
                    var oldBias = conv.OperandCount > 2 ? Constants.DefiningConstant(conv.GetOperand(2)) : null;
                    var type = plan.Conv.BiasType ?? new TensorType(plan.Conv.WeightType.Element, [bias.Length]);
                    var baseLoc = oldBias?.Location is { } l && l is not UnknownLoc ? l : Location.Named(plan.Conv.Name + ".bias");
                    newBias = Constants.Create(rewriter.Builder, module, type, Constants.EncodeFloats(module, bias, type.Element), Location.Fuse(baseLoc, bn.Location),
                        oldBias is not null ? LayerFolding.BlobHint(oldBias, plan.Conv.Name + ".bias") : plan.Conv.Name + ".bias");
                }
                rewriter.ModifyInPlace(conv, () =>
                {
                    conv.SetOperand(0, x);
                    conv.SetOperand(1, newWeight);
                    // Without a new bias, a none-typed "no bias" stays as it was.
                    if (newBias is null) return;
                    if (conv.OperandCount > 2) conv.SetOperand(2, newBias);
                    else conv.AddOperand(newBias);
                }, absorbs: bn);
                if (rewriter.IsLogging) rewriter.Log($"folded {bnName} into the {conv.Name} {plan.Conv.Name} after it");
            }
            return true;
        }
    }

    private sealed record BeforeFold(Layer Conv, double[] Weight, double[]? Bias);

    /// <summary>The Conv's new weight and bias when <paramref name="bn"/> before it folds in exactly; else null and why.</summary>
    private static BeforeFold? PlanBefore(Operation bn, Operation conv, ChannelAffine affine, MirModule module, DialectRegistry registry, out string reason)
    {
        if (conv.OperandSlots.Any(s => s.Value == bn.Result && s.Index != 0))
        {
            reason = $"reads {FloatData.NameOf(bn)} as its weight or bias, not as its input";
            return null;
        }
        if (LayerFolding.Analyze(conv, module, registry, out reason) is not { } layer) return null;
        var shape = layer.WeightType.Shape!;
        long group = layer.Group, m = shape[0], perGroupIn = shape[1], inputs = perGroupIn * group;
        if (inputs != affine.Channels)
        {
            reason = $"has {inputs} input channels but {FloatData.NameOf(bn)} normalizes {affine.Channels}";
            return null;
        }
        if (PaddingProblem(conv, bn.GetOperand(0).Type as TensorType, shape) is { } padding)
        {
            reason = padding;
            return null;
        }

        var s = affine.Scale;
        var t = affine.Shift;
        var w = layer.ReadWeight();
        long inner = w.Length / (m * perGroupIn), perGroupOut = m / group;
        var bias = layer.Bias is { } b ? (double[])b.Clone() : affine.HasShift ? new double[m] : null;
        for (long o = 0; o < m; o++)
        {
            long firstInput = o / perGroupOut * perGroupIn;
            double shift = 0;
            for (long c = 0; c < perGroupIn; c++)
            {
                long start = (o * perGroupIn + c) * inner;
                double sc = s[firstInput + c], tc = t[firstInput + c];
                for (long k = 0; k < inner; k++)
                {
                    shift += w[start + k] * tc;
                    w[start + k] *= sc;
                }
            }
            if (bias is not null) bias[o] += shift;
        }
        reason = "";
        return new BeforeFold(layer, w, bias);
    }

    /// <summary>Why the Conv pads its input (so the fold is not exact), or null when it provably pads nothing.</summary>
    private static string? PaddingProblem(Operation conv, TensorType? input, IReadOnlyList<long> weightShape)
    {
        int spatial = weightShape.Count - 2;
        var pads = conv.ReadInts("pads");
        if (pads is not null && pads.Any(p => p != 0))
            return $"pads [{string.Join(", ", pads)}]: zero padding of the normalized input is not zero padding of the input";
        var autoPad = conv.ReadString("auto_pad") ?? "NOTSET";
        if (autoPad is "NOTSET" or "VALID") return null;
        if (autoPad is not ("SAME_UPPER" or "SAME_LOWER")) return $"auto_pad {autoPad} is not understood";
        var strides = conv.ReadInts("strides");
        var dilations = conv.ReadInts("dilations");
        for (int i = 0; i < spatial; i++)
        {
            long k = weightShape[2 + i];
            long stride = strides is not null && i < strides.Length ? strides[i] : 1;
            long dilation = dilations is not null && i < dilations.Length ? dilations[i] : 1;
            long effective = (k - 1) * dilation + 1;
            if (effective == 1) continue; // a 1-wide kernel never needs padding, whatever the stride
            long size = input is { IsRanked: true } it && it.Rank == spatial + 2 ? it.Shape![2 + i] : -1;
            if (size < 0)
                return $"auto_pad {autoPad} pads a dynamic spatial dimension by an unknown amount (zero padding of the normalized input is not zero padding of the input)";
            long total = Math.Max(0, ((size + stride - 1) / stride - 1) * stride + effective - size);
            if (total != 0)
                return $"auto_pad {autoPad} pads spatial dimension {i} by {total}: zero padding of the normalized input is not zero padding of the input";
        }
        return null;
    }
}
