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
/// The BN after a layer is tried first. New weights are new constants; the ones left unused go with <c>--dce</c>.
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
        if (!module.AllOperations().Any(IsBatchNorm)) return;
        context.Count("folded", 0);
        // The last reason each BN could not be folded; reported once at the end for the BNs still there.
        var failures = new Dictionary<Operation, (Operation Target, string Reason)>();
        for (int sweep = 0; sweep < 10; sweep++)
        {
            bool changed = false;
            foreach (var bn in module.AllOperations().Where(IsBatchNorm).ToList())
            {
                if (bn.Parent is null) continue; // folded together with an identical BN
                if (TryFold(bn, module, context, out var failure))
                {
                    changed = true;
                    failures.Remove(bn);
                }
                else failures[bn] = failure;
            }
            if (!changed) break;
        }
        foreach (var (bn, (target, reason)) in failures)
            if (bn.Parent is not null) context.Skip(target, reason);
    }

    private static bool IsBatchNorm(Operation op) => op.Name == BatchNormParams.OpName;

    private bool TryFold(Operation bn, MirModule module, PassContext context, out (Operation, string) failure)
    {
        failure = default;
        if (BatchNormParams.TryRead(bn, module, out var why) is not { } affine)
        {
            failure = (bn, why);
            return false;
        }

        (Operation Target, string Reason)? after = null, before = null;
        if (bn.GetOperand(0) is OpResult { Owner: var producer } && LayerFolding.IsLayer(producer))
        {
            if (TryFoldAfter(bn, producer, affine, module, context, out var r)) return true;
            after = r;
        }
        var users = bn.Result.Users.Distinct().ToList();
        if (users.Count > 0 && users.All(u => u.Name == "onnx.Conv"))
        {
            if (TryFoldBefore(bn, users, affine, module, context, out var r)) return true;
            before = r;
        }

        failure = (after, before) switch
        {
            ({ } a, null) => a,
            (null, { } b) => b,
            ({ } a, { } b) => (bn, $"not into {FloatData.NameOf(a.Target)} before it ({a.Reason}) nor into {FloatData.NameOf(b.Target)} after it ({b.Reason})"),
            _ => (bn, $"nothing to fold into: its input comes from {InputDescription(bn.GetOperand(0))}, not a Conv, ConvTranspose, Gemm or MatMul, " +
                      "and its users are not all Convs"),
        };
        return false;
    }

    private static string InputDescription(Value v) => v switch
    {
        OpResult r => FloatData.Describe(r.Owner),
        BlockArgument a => $"argument #{a.Index}",
        _ => "?",
    };

    // ------------------------------------------------------------------ BN after a layer

    private bool TryFoldAfter(Operation bn, Operation producer, ChannelAffine affine, MirModule module, PassContext context,
        out (Operation Target, string Reason) failure)
    {
        failure = default;
        if (LayerFolding.Analyze(producer, module, out var why) is not { } layer)
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
        foreach (var user in producer.Result.Users.Distinct())
        {
            if (user == bn) continue;
            if (IsBatchNorm(user) && user.GetOperand(0) == producer.Result && user.Result.Type == bn.Result.Type
                && BatchNormParams.TryRead(user, module, out _) is { } other && other.SameAs(affine))
                consumers.Add(user);
        }
        if (LayerFolding.OtherUser(layer, consumers) is { } shared)
        {
            if (!_duplicateShared.Value)
            {
                failure = (producer, $"its output also feeds {FloatData.Describe(shared)}, which would see the folded values");
                return false;
            }
            context.Count("layers duplicated");
        }

        bool copy = LayerFolding.OtherUser(layer, consumers) is not null;
        LayerFolding.Fold(layer, affine, consumers, module);
        context.Count("folded", consumers.Count);
        context.Log($"folded {string.Join(", ", consumers.Select(FloatData.NameOf))} into {producer.Name} {layer.Name}{(copy ? " (a copy of it)" : "")}");
        return true;
    }

    // ------------------------------------------------------------------ BN before Convs

    private sealed record BeforeFold(Layer Conv, double[] Weight, double[]? Bias);

    private static bool TryFoldBefore(Operation bn, List<Operation> convs, ChannelAffine affine, MirModule module, PassContext context,
        out (Operation Target, string Reason) failure)
    {
        failure = default;
        var plans = new List<BeforeFold>();
        foreach (var conv in convs)
        {
            if (PlanBefore(bn, conv, affine, module, out var why) is not { } plan)
            {
                failure = (conv, why);
                return false;
            }
            plans.Add(plan);
        }
        var x = bn.GetOperand(0);
        foreach (var plan in plans)
        {
            var conv = plan.Conv.Op;
            var builder = OpBuilder.Before(conv);
            var weightOp = Constants.DefiningConstant(conv.GetOperand(1))!;
            var newWeight = Constants.Create(builder, module, plan.Conv.WeightType, ElementCodec.EncodeFloats(plan.Weight, plan.Conv.WeightType.Element),
                Location.Fuse(weightOp.Location, bn.Location), LayerFolding.BlobHint(weightOp, plan.Conv.Name + ".weight"));
            var operands = new List<Value> { x, newWeight };
            if (plan.Bias is { } bias)
            {
                var oldBias = conv.OperandCount > 2 ? Constants.DefiningConstant(conv.GetOperand(2)) : null;
                var type = plan.Conv.BiasType ?? new TensorType(plan.Conv.WeightType.Element, [bias.Length]);
                var baseLoc = oldBias?.Location is { } l && l is not UnknownLoc ? l : Location.Named(plan.Conv.Name + ".bias");
                operands.Add(Constants.Create(builder, module, type, ElementCodec.EncodeFloats(bias, type.Element), Location.Fuse(baseLoc, bn.Location),
                    oldBias is not null ? LayerFolding.BlobHint(oldBias, plan.Conv.Name + ".bias") : plan.Conv.Name + ".bias"));
            }
            else if (conv.OperandCount > 2) operands.Add(conv.GetOperand(2)); // a none-typed "no bias" stays as it was
            var fused = builder.Create(conv.Name, operands, [conv.Result.Type], conv.Attributes, Location.Fuse(conv.Location, bn.Location));
            conv.Result.ReplaceAllUsesWith(fused.Result);
            conv.Erase();
            context.Log($"folded {FloatData.NameOf(bn)} into the {conv.Name} {plan.Conv.Name} after it");
        }
        bn.Erase();
        context.Count("folded");
        return true;
    }

    /// <summary>The Conv's new weight and bias when <paramref name="bn"/> before it folds in exactly; else null and why.</summary>
    private static BeforeFold? PlanBefore(Operation bn, Operation conv, ChannelAffine affine, MirModule module, out string reason)
    {
        if (conv.OperandSlots.Any(s => s.Value == bn.Result && s.Index != 0))
        {
            reason = $"reads {FloatData.NameOf(bn)} as its weight or bias, not as its input";
            return null;
        }
        if (LayerFolding.Analyze(conv, module, out reason) is not { } layer) return null;
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
        var w = (double[])layer.Weight.Clone();
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
        var pads = Ints(conv.GetAttr("pads"));
        if (pads is not null && pads.Any(p => p != 0))
            return $"pads [{string.Join(", ", pads)}]: zero padding of the normalized input is not zero padding of the input";
        var autoPad = conv.GetString("auto_pad") ?? "NOTSET";
        if (autoPad is "NOTSET" or "VALID") return null;
        if (autoPad is not ("SAME_UPPER" or "SAME_LOWER")) return $"auto_pad {autoPad} is not understood";
        var strides = Ints(conv.GetAttr("strides"));
        var dilations = Ints(conv.GetAttr("dilations"));
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

    private static long[]? Ints(Attr? attr) => attr switch
    {
        ArrayAttr a => a.Elements.Select(e => e is IntegerAttr i ? i.Value : 0).ToArray(),
        DenseArrayAttr d when !d.Type.IsFloat => d.Ints.ToArray(),
        _ => null,
    };
}
