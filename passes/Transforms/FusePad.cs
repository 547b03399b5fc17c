using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--fuse-pad</c>: a Pad whose only reader is a Conv, AveragePool or MaxPool goes into that operation's <c>pads</c>.
/// <code>
/// Before: %p = "onnx.Pad"(%x, %pads)            // pads [0, 0, 1, 2, 0, 0, 1, 2], constant mode, value 0
///         %y = "onnx.Conv"(%p, %w) {pads = [0, 0, 0, 0]}
/// After:  %y = "onnx.Conv"(%x, %w) {pads = [1, 2, 1, 2]} loc(fused["conv", "pad"])
/// </code>
/// Applies when all of these hold (otherwise the Pad stays and the reason is recorded):
/// <list type="bullet">
/// <item>the Pad's result is read once, as input 0 of the Conv / pool, in constant mode;</item>
/// <item>its pads are known (attribute, or constant input with constant <c>axes</c>), none negative, and the batch and
/// channel axes (0 and 1) are not padded;</item>
/// <item>the consumer's <c>auto_pad</c> is NOTSET (or absent) or VALID (then replaced by the explicit pads);</item>
/// <item>Conv: the pad value is 0;</item>
/// <item>AveragePool: the pad value is 0, <c>count_include_pad = 1</c> (padded zeros are averaged in, as the explicit
/// ones were), <c>ceil_mode = 0</c>, and each merged pad is smaller than the kernel (ONNX Runtime requires it);</item>
/// <item>MaxPool: the pad value is -inf (pooling ignores padding, which is the same), or 0 with an input proven
/// non-negative (it comes from Relu, Sigmoid, Softplus, Exp, Abs, or Clip with a constant min &gt;= 0);
/// the Indices output is unused; <c>ceil_mode = 0</c>; each merged pad is smaller than the kernel.</item>
/// </list>
/// </summary>
public sealed class FusePad : Pass
{
    public override string Name => "fuse-pad";
    public override string Summary => "Fold a constant-zero Pad into the following Conv or AveragePool (a -inf Pad into MaxPool)";

    public override void Run(MirModule module, PassContext context)
    {
        if (GreedyPatternRewriteDriver.Apply(module, [new FoldPadIntoConsumer()], context, Name) == 0) context.MarkAllPreserved();
    }

    private static readonly HashSet<string> Consumers = new(StringComparer.Ordinal) { "onnx.Conv", "onnx.AveragePool", "onnx.MaxPool" };

    /// <summary>Operations whose every output element is &gt;= 0 (or NaN) whatever their input.</summary>
    private static readonly HashSet<string> NonNegativeOps = new(StringComparer.Ordinal)
    {
        "onnx.Relu", "onnx.Sigmoid", "onnx.Softplus", "onnx.Exp", "onnx.Abs",
    };

    private sealed class FoldPadIntoConsumer : RewritePattern
    {
        public override string Name => "Pad folded";
        public override string? Root => "onnx.Pad";

        public override bool MatchAndRewrite(Operation pad, PatternRewriter rewriter)
        {
            var module = rewriter.Module;
            if (pad.OperandCount < 1 || pad.Results.Count != 1) return false;
            var padded = pad.Result;
            if (!padded.Users.Any(u => Consumers.Contains(u.Name))) return false;
            if (padded.Uses.Count != 1 || padded.Uses[0].Index != 0)
                return rewriter.NotifyMatchFailure(pad, "its result has other users than the Conv or pooling input");
            var user = padded.Uses[0].Owner;
            var kind = user.OpType;
            if (PadFacts.Mode(pad) is var mode && mode != "constant") return Skip($"mode is {mode}, not constant");
            if (PadFacts.Pads(pad, module, out var why) is not { } pads) return Skip(why);
            int rank = pads.Length / 2;
            if (rank < 3) return Skip($"a {kind} input has rank 3 or more, these pads cover {rank} axes");
            if (pads.Any(p => p < 0)) return Skip("a pad is negative (a crop)");
            if (pads[0] != 0 || pads[1] != 0 || pads[rank] != 0 || pads[rank + 1] != 0) return Skip("it pads the batch or channel axis");
            if (PadFacts.Value(pad, module, out why) is not double value) return Skip(why);

            var autoPad = user.ReadString("auto_pad") ?? "NOTSET";
            if (autoPad is not ("NOTSET" or "VALID" or "")) return Skip($"the {kind}'s auto_pad {autoPad} depends on the input size");
            int spatial = rank - 2;
            var existing = user.ReadInts("pads") ?? new long[2 * spatial];
            if (existing.Length != 2 * spatial) return Skip($"the {kind}'s pads have {existing.Length} entries, not {2 * spatial}");
            var merged = new long[2 * spatial];
            for (int i = 0; i < spatial; i++)
            {
                merged[i] = existing[i] + pads[2 + i];
                merged[spatial + i] = existing[spatial + i] + pads[rank + 2 + i];
            }

            switch (kind)
            {
                case "Conv":
                    if (value != 0) return Skip($"the pad value {value} is not 0");
                    break;
                case "AveragePool":
                    if (value != 0) return Skip($"the pad value {value} is not 0");
                    if (user.ReadInt("count_include_pad") != 1) return Skip("the AveragePool does not count padding (count_include_pad = 0), the explicit zeros were counted");
                    if (!PoolingAllows(user, merged, out why)) return Skip(why);
                    break;
                case "MaxPool":
                    if (!double.IsNegativeInfinity(value) && !(value == 0 && IsNonNegative(pad.GetOperand(0), module)))
                        return Skip(value == 0 ? "the pad value is 0 and the input is not proven non-negative" : $"the pad value {value} is not -inf");
                    if (user.Results.Count > 1 && user.Results[1].HasUses) return Skip("the MaxPool's Indices output is used");
                    if (!PoolingAllows(user, merged, out why)) return Skip(why);
                    break;
                default:
                    return false;
            }

            // The Pad (and its pads and value constants) goes with its last reader; the consumer carries its location.
            rewriter.ModifyInPlace(user, () =>
            {
                user.SetOperand(0, pad.GetOperand(0));
                user.SetAttr("pads", ArrayAttr.OfInts(merged));
                user.RemoveAttr("auto_pad");
            }, absorbs: pad);
            return true;

            bool Skip(string reason) => rewriter.NotifyMatchFailure(pad, $"not folded into {user.OpType}: {reason}");
        }

        private static bool PoolingAllows(Operation pool, long[] merged, out string why)
        {
            why = "";
            if (pool.ReadInt("ceil_mode") is long c && c != 0) { why = "ceil_mode = 1 (windows may start in the padding)"; return false; }
            if (pool.ReadInts("kernel_shape") is not { } kernel || kernel.Length * 2 != merged.Length)
            {
                why = "kernel_shape is missing or does not match the pads"; return false;
            }
            for (int i = 0; i < kernel.Length; i++)
                if (merged[i] >= kernel[i] || merged[kernel.Length + i] >= kernel[i])
                {
                    why = $"the merged pads {OnnxFacts.Dims(merged)} would not all be smaller than the kernel {OnnxFacts.Dims(kernel)}";
                    return false;
                }
            return true;
        }

        private static bool IsNonNegative(Value v, MirModule module)
        {
            if (v is not OpResult { Owner: var op }) return false;
            if (NonNegativeOps.Contains(op.Name)) return true;
            if (op.Name != "onnx.Clip") return false;
            double? min = op.OperandCount == 1 ? op.ReadFloat("min")
                : OnnxFacts.Optional(op, 1) is { } m && OnnxFacts.ConstDoubles(m, module) is [var only] ? only : null;
            return min is >= 0;
        }
    }
}
