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
/// <para>
/// Option <c>only-if-fusable</c> (default false; <c>--pipeline=deploy</c> sets it): of the BNs that meet these
/// conditions, replace only those whose Mul <em>and</em> Add <c>--fuse-conv-add-mul</c> then folds into a layer;
/// keep the others as BatchNormalization (counted as "kept", each with its reason under <c>--debug</c>), since a
/// runtime computes one BN faster than a Mul and an Add (ONNX Runtime: DenseNet-121 1.03x slower with them). Decided
/// by trying, not by a second copy of fuse-conv-add-mul's rules: on a copy of the module every qualifying BN is
/// replaced and fuse-conv-add-mul is run; a BN is replaced here exactly when both its Mul and its Add are gone there.
/// After <c>--fold-bn</c> that is a BN separated from its Conv, ConvTranspose or Gemm only by constant per-channel
/// Mul, Add, Sub or Div (which fuse-conv-add-mul folds first); a BN after a Concat, an activation, a pooling or a
/// graph input, before a padded Conv, or after a layer that fuse-conv-add-mul refuses (its output shared, its
/// weight not constant) is kept.
/// </para>
/// </summary>
public sealed class BatchNormToScale : Pass
{
    private readonly PassOption<bool> _onlyIfFusable = new("only-if-fusable",
        "replace a BatchNormalization only when --fuse-conv-add-mul then folds both its Mul and its Add into a layer; keep the others", false);

    public override string Name => "bn-to-scale";
    public override string Summary => "Replace inference BatchNormalization by a per-channel Mul and Add with precomputed constants";
    public override IReadOnlyList<PassOption> Options => [_onlyIfFusable];

    /// <summary>A BN that can be replaced: its per-channel map and its input's rank.</summary>
    private sealed record Candidate(Operation Bn, ChannelAffine Affine, int Rank);

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
        if (!context.OpNamesAtStart(module).Contains(BatchNormParams.OpName))
        {
            context.MarkAllPreserved();
            return;
        }
        var bns = new List<Operation>();
        module.Op.AddNested(bns, static o => o.Name == BatchNormParams.OpName);
        if (bns.Count > 0) context.Count("replaced", 0);
        var candidates = new List<Candidate>();
        foreach (var bn in bns)
        {
            if (BatchNormParams.TryRead(bn, module, out var reason) is not { } affine)
                context.Skip(bn, reason);
            else if (RankOf(bn) is not int rank)
                context.Skip(bn, $"input {bn.GetOperand(0).Type} has an unknown rank, so the per-channel constants cannot be shaped");
            else
                candidates.Add(new Candidate(bn, affine, rank));
        }
        if (_onlyIfFusable.Value && candidates.Count > 0) candidates = Fusable(module, candidates, context);
        if (candidates.Count == 0) context.MarkAllPreserved();
        foreach (var c in candidates)
        {
            Replace(c, module, context.Dialects);
            context.Count("replaced");
            context.Log($"replaced {FloatData.NameOf(c.Bn)} by Mul and Add ({c.Affine.Channels} channels)");
        }
    }

    /// <summary>
    /// The candidates whose Mul and Add <c>fuse-conv-add-mul</c> folds: tried on a copy of the module (weights shared,
    /// never changed) with every candidate replaced. The others are counted as kept, with the reason under --debug.
    /// </summary>
    private static List<Candidate> Fusable(MirModule module, List<Candidate> candidates, PassContext context)
    {
        var map = new Dictionary<Value, Value>();
        var trial = module.Clone(map);
        var replaced = candidates.Select(c => Replace(c with { Bn = ((OpResult)map[c.Bn.Result]).Owner }, trial, context.Dialects)).ToList();
        new FuseConvAddMul().Run(trial, new PassContext(statisticsWanted: false, dialects: context.Dialects));
        var left = trial.AllOperations().ToHashSet();

        var fusable = new List<Candidate>();
        context.Count("kept", 0);
        for (int i = 0; i < candidates.Count; i++)
        {
            var (mul, add) = replaced[i];
            if (!left.Contains(mul) && !left.Contains(add))
            {
                fusable.Add(candidates[i]);
                continue;
            }
            var bn = candidates[i].Bn;
            var why = left.Contains(mul) && left.Contains(add) ? "would fold neither its Mul nor its Add into a layer" : "would fold its Mul but not its Add";
            var input = bn.GetOperand(0) is OpResult { Owner: var producer } ? FloatData.Describe(producer) : "a function argument";
            context.Count("kept");
            context.Log($"kept {FloatData.NameOf(bn)}: fuse-conv-add-mul {why} (its input comes from {input})");
        }
        return fusable;
    }

    /// <summary>Puts <c>x * s + t</c> in place of the candidate's BN (its parameters erased when nothing else reads them); returns the Mul and the Add.</summary>
    private static (Operation Mul, Operation Add) Replace(Candidate c, MirModule module, DialectRegistry dialects)
    {
        var (bn, affine, rank) = c;
        var x = bn.GetOperand(0);
        var xt = (TensorType)x.Type;
        // Before opset 7 Mul and Add broadcast only with broadcast = 1, aligning a [C] operand at axis 1 (the opset is kept).
        bool legacy = OnnxOpset.Of(module) < 7;
        var shape = new long[legacy ? 1 : rank - 1];
        Array.Fill(shape, 1L);
        shape[0] = affine.Channels;
        var type = new TensorType(xt.Element, shape);
        var name = FloatData.NameOf(bn);
        var builder = OpBuilder.Before(bn);
        var s = Constants.Create(builder, module, type, Constants.EncodeFloats(module, affine.Scale, type.Element),
            Location.Named(name + ".multiplier"), name + ".multiplier");
        var t = Constants.Create(builder, module, type, Constants.EncodeFloats(module, affine.Shift, type.Element),
            Location.Named(name + ".offset"), name + ".offset");
        // The Add takes over the BN's name and output name; the Mul is named apart (ONNX node names are unique).
        NamedAttr[] broadcast = legacy ? [new NamedAttr("broadcast", IntegerAttr.I64(1)), new NamedAttr("axis", IntegerAttr.I64(1))] : [];
        var mul = builder.Create("onnx.Mul", [x, s], [bn.Result.Type], broadcast, Location.Named(name + ".mul"));
        var addAttrs = bn.GetAttr("mo.outputs") is { } names ? broadcast.Append(new NamedAttr("mo.outputs", names)).ToArray() : broadcast;
        var add = builder.Create("onnx.Add", [mul.Result, t], [bn.Result.Type], addAttrs, bn.Location);
        // Through the rewriter, so the BN's scale, bias, mean and variance go with it; their blobs go in the pass
        // manager's sweep after the pass (once, not one walk of the module per BN).
        var rewriter = new PatternRewriter(module, dialects);
        rewriter.ReplaceAllUsesWith(bn.Result, add.Result);
        rewriter.EraseOp(bn);
        return (mul, add);
    }
}
