using Mopt.Dialects.Mo;
using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>
/// <c>--quantize-weights='per-channel=true min-size=1024'</c>: weight-only int8. Each large float constant becomes
/// an 8-bit constant that a DequantizeLinear turns back into floats when the model runs, so the file holds a byte
/// per weight instead of four.
/// <code>
/// Before: %w = "onnx.Constant"() {value = dense_resource&lt;conv1.weight&gt; : tensor&lt;16x3x3x3xf32&gt;}
///         %y = "onnx.Conv"(%x, %w, %b)
/// After:  %q = "onnx.Constant"() {value = dense_resource&lt;conv1.weight_quantized&gt; : tensor&lt;16x3x3x3xi8&gt;}
///         %s = "onnx.Constant"() {value = dense&lt;[...]&gt; : tensor&lt;16xf32&gt;}
///         %z = "onnx.Constant"() {value = dense&lt;0&gt; : tensor&lt;16xi8&gt;}
///         %w = "onnx.DequantizeLinear"(%q, %s, %z) {axis = 0 : i64} : (...) -> tensor&lt;16x3x3x3xf32&gt;
///         %y = "onnx.Conv"(%x, %w, %b)
/// </code>
/// Per slice c along the axis (or the whole tensor): <c>scale = max|w| / 127</c>, <c>q = clamp(round_half_even(w /
/// scale), -127, 127)</c> (symmetric); asymmetric uses <c>[min, max] ∪ {0}</c> over the full integer range and a zero
/// point (<see cref="QuantMath.ForRange"/>). The axis is the consumer's output channel, as its definition's
/// <see cref="IWeightLayout"/> gives it: Conv W → 0, ConvTranspose W (rank ≥ 2) → 1, Gemm B (rank 2) → 0 with
/// transB = 1 else 1, MatMul B (rank ≥ 2) → its last axis; and Gemm A (rank 2) → 0 (1 with transA = 1); anything
/// else, or consumers that disagree, or <c>per-channel=false</c> → one scale for the tensor.
/// Applies to a constant (<c>onnx.Constant</c>) of f32 with a static shape and at least <c>min-size</c> elements (f16/bf16 only at
/// opset 19+, where DequantizeLinear can return them) whose every use is an ordinary data input of an operation
/// mopt has a definition of. Skipped, with the reason: a weight holding inf or nan, a constant that is a graph output or a parameter
/// that must stay exact (Resize scales, Pad value, Clip bounds, ...), f64. Per-channel needs opset 13 and per tensor
/// opset 10: the opset is raised (<see cref="OpsetUpgrade"/>); when that is refused the pass falls back to per tensor,
/// or does nothing, and says so.
/// </summary>
public sealed class QuantizeWeights : Pass
{
    private readonly PassOption<bool> _perChannel = new("per-channel", "one scale per output channel where the consumer has one (needs opset 13)", true);
    private readonly PassOption<long> _minSize = new("min-size", "smallest tensor (in elements) to quantize; smaller ones stay float", 1024, valid: n => n >= 1);
    private readonly PassOption<bool> _symmetric = new("symmetric", "zero point 0 and [-127, 127] (true) or the full range with a zero point (false)", true);
    private readonly PassOption<string> _type = new("type", "int8 or uint8", "int8", valid: t => t is "int8" or "uint8");

    public override string Name => "quantize-weights";
    public override string Summary => "Weight-only int8: large float constants become int8 + DequantizeLinear (per output channel), about 4x smaller";
    public override IReadOnlyList<PassOption> Options => [_perChannel, _minSize, _symmetric, _type];

    /// <summary>A weight to quantize and the axis its scales run along (null: one scale).</summary>
    private sealed record Candidate(Operation Constant, TensorType Type, int? Axis);

    public override void Run(MirModule module, PassContext context)
    {
        var quantType = _type.Value == "uint8" ? QuantType.UInt8 : QuantType.Int8;
        ReportUnquantizableWeights(module, context);

        int opset = OpsetUpgrade.CurrentOpset(module);
        var candidates = new List<Candidate>();
        foreach (var op in module.AllOperations().Where(o => context.Dialects.Has(o, OpTraits.ConstantLike)).ToList())
            if (Select(op, module, opset, context) is { } c) candidates.Add(c);
        if (candidates.Count == 0) return;

        bool perChannel = _perChannel.Value && candidates.Any(c => c.Axis is not null);
        if (!EnsureOpset(module, perChannel, context, out perChannel)) return;
        if (!perChannel) candidates = candidates.Select(c => c with { Axis = null }).ToList();

        var replacedKeys = new HashSet<string>(StringComparer.Ordinal);
        long bytesBefore = 0, bytesAfter = 0;
        foreach (var candidate in candidates)
        {
            var tensor = Constants.TryGet(candidate.Constant.Result, module)!;
            var values = tensor.ToFloats();
            if (values.Any(v => !float.IsFinite(v))) { context.Skip(candidate.Constant, "holds inf or nan"); continue; }
            var (parameters, data) = QuantMath.QuantizeTensor(values, candidate.Type.Shape!, candidate.Axis, quantType, _symmetric.Value);
            if (candidate.Type.Element != ElementType.F32)
                (parameters, data) = RequantizeWithScalesOf(candidate.Type, candidate.Axis, values, parameters, quantType);
            if (parameters.Any(p => !(p.Scale > 0) || !float.IsFinite(p.Scale)))
            {
                context.Skip(candidate.Constant, "its values are too small for a float scale");
                continue;
            }
            if (Constants.ValueAttribute(candidate.Constant, context.Dialects) is DenseResourceAttr old) replacedKeys.Add(old.Key);
            bytesBefore += tensor.Bytes.Length;
            bytesAfter += Replace(candidate, parameters, data, quantType, module);
            context.Count("tensors quantized");
            context.Count(candidate.Axis is null ? "per tensor" : "per channel");
        }
        module.RemoveUnreferencedBlobs(replacedKeys);
        if (bytesBefore > 0)
        {
            context.Count("bytes before", bytesBefore);
            context.Count("bytes after", bytesAfter);
            context.Log($"quantized weights: {bytesBefore} -> {bytesAfter} bytes ({(double)bytesBefore / bytesAfter:F2}x smaller)");
        }
    }

    /// <summary>
    /// Raises the opset to what the DequantizeLinears need: 13 for per-channel, else 10. False when even per tensor
    /// is impossible; <paramref name="perChannel"/> turns false when only per tensor is.
    /// </summary>
    private static bool EnsureOpset(MirModule module, bool wantPerChannel, PassContext context, out bool perChannel)
    {
        int from = OpsetUpgrade.CurrentOpset(module);
        perChannel = wantPerChannel;
        if (wantPerChannel)
        {
            if (OpsetUpgrade.TryUpgrade(module, 13, context, out var why))
            {
                if (from < 13) context.Note($"quantize-weights: raised the opset from {from} to 13 for per-channel DequantizeLinear");
                return true;
            }
            perChannel = false;
            context.Note($"quantize-weights: per tensor instead of per channel: {why}");
        }
        if (OpsetUpgrade.TryUpgrade(module, 10, context, out var whyNot))
        {
            if (from < 10) context.Note($"quantize-weights: raised the opset from {from} to 10 for DequantizeLinear");
            return true;
        }
        context.Note($"quantize-weights: nothing quantized: DequantizeLinear needs opset 10: {whyNot}");
        return false;
    }

    /// <summary>The constant as a candidate, or null (too small, not float, or a use that must stay exact: reported).</summary>
    private Candidate? Select(Operation op, MirModule module, int opset, PassContext context)
    {
        if (Constants.ValueAttribute(op, context.Dialects) is null || op.Results.Count != 1) return null;
        if (op.Result.Type is not TensorType { HasStaticShape: true, Element.IsFloat: true } type) return null;
        if (type.ElementCount < _minSize.Value) return null;
        if (!op.Result.HasUses) return null;
        if (type.Element == ElementType.F64) { context.Skip(op, "f64: DequantizeLinear cannot return f64"); return null; }
        if (type.Element != ElementType.F32 && opset < 19)
        {
            context.Skip(op, $"{type.Element.Name}: DequantizeLinear returns {type.Element.Name} only from opset 19 (the model is opset {opset})");
            return null;
        }
        if (Constants.TryGet(op.Result, module) is null) { context.Skip(op, "its blob is missing"); return null; }

        int? axis = null;
        bool first = true;
        foreach (var use in op.Result.Uses)
        {
            var (useAxis, reason) = AxisFor(use, type, context.Dialects);
            if (reason is not null) { context.Skip(op, reason); return null; }
            // Consumers that want different axes share one scale.
            axis = first ? useAxis : axis == useAxis ? axis : null;
            first = false;
        }
        if (axis is int a && type.Shape![a] <= 1) axis = null;
        return new Candidate(op, type, axis);
    }

    /// <summary>The axis of output channels for this use (null: per tensor), or why the constant must stay as it is.</summary>
    private static (int? Axis, string? Reason) AxisFor(OpOperand use, TensorType type, DialectRegistry dialects)
    {
        var user = use.Owner;
        int rank = type.Rank;
        if (dialects.Has(user, OpTraits.Terminator)) return (null, "it is a graph output");
        if (dialects.Find(user) is null) return (null, $"used by {user.Name}, whose operands mopt does not know");
        int i = use.Index;
        // Gemm's B must be 2-D; ConvTranspose's output axis 1 needs rank 2.
        if (dialects.Interface<IWeightLayout>(user)?.WeightAxesOf(user) is { } axes && axes.WeightOperand == i && axes.OutputAxis < rank
            && !(GemmOp.Is(user) && rank != 2))
            return (axes.OutputAxis, null);
        if (GemmOp.TryGet(user) is { } gemm && i == 0 && rank == 2) return (gemm.TransA == 1 ? 1 : 0, null);
        switch (user.OpType)
        {
            case "Resize" or "Upsample" when i >= 1:
            case "Pad" when i >= 2:
            case "Clip" when i >= 1:
            case "Dropout" when i >= 1:
            case "Range" or "ConstantOfShape" or "QuantizeLinear" or "DequantizeLinear" or "DynamicQuantizeLinear"
                or "If" or "Loop" or "Scan" or "NonMaxSuppression" or "RoiAlign" or "TopK":
                return (null, $"it is a parameter of {user.OpType} '{user.Location.FirstName ?? user.Name}' that must stay exact");
            default:
                return (null, null);
        }
    }

    /// <summary>
    /// An f16/bf16 weight's scales are stored in its own type: the values are quantized again with the rounded scales,
    /// so that dequantizing gives what QuantizeLinear with those scales would have given.
    /// </summary>
    private static (QuantParams[], byte[]) RequantizeWithScalesOf(TensorType type, int? axis, float[] values, QuantParams[] parameters, QuantType quantType)
    {
        var rounded = parameters.Select(p => p with { Scale = (float)ElementCodec.RoundTo(type.Element, p.Scale) }).ToArray();
        long inner = 1;
        if (axis is int a) for (int d = a + 1; d < type.Rank; d++) inner *= type.Shape![d];
        var data = new byte[values.Length];
        for (long i = 0; i < values.Length; i++)
        {
            var p = axis is null ? rounded[0] : rounded[i / inner % rounded.Length];
            data[i] = unchecked((byte)QuantMath.Quantize(values[i], p, quantType));
        }
        return (rounded, data);
    }

    /// <summary>Replaces the constant by int8 + scale + zero point + DequantizeLinear; returns the bytes they take.</summary>
    private static long Replace(Candidate c, QuantParams[] parameters, byte[] data, QuantType quantType, MirModule module)
    {
        var op = c.Constant;
        var name = OutputName(op);
        var builder = OpBuilder.Before(op);
        var quantized = Constants.Create(builder, module, c.Type.WithElement(QuantMath.ElementOf(quantType)), data, Location.Named(name + "_quantized"), name + "_quantized");
        // Per tensor: scalars (DequantizeLinear-10's form); per channel: one entry per slice along the axis. The scale
        // has the weight's float type, so DequantizeLinear gives back the type the readers expect.
        var (scale, zeroPoint) = QuantGraph.Params(builder, module, parameters, quantType, name, c.Type.Element);
        var dq = QuantGraph.Dequantize(builder, quantized, scale, zeroPoint, c.Axis, name + "_DequantizeLinear");
        // The dequantized tensor keeps the weight's name, so the consumers still read "conv1.weight".
        ((OpResult)dq).Owner.SetAttr(MoDialect.OutputsAttr, ArrayAttr.OfStrings([name]));
        op.Result.ReplaceAllUsesWith(dq);
        op.Erase();
        return data.Length + (long)parameters.Length * (c.Type.Element.ByteSize + 1);
    }

    /// <summary>The constant's tensor name in the ONNX file: its <c>mo.outputs</c>, else its location.</summary>
    private static string OutputName(Operation op) =>
        op.GetAttr(MoDialect.OutputsAttr) is ArrayAttr { Elements.Count: > 0 } outs && outs.Elements[0] is StringAttr { Value.Length: > 0 } s
            ? s.Value
            : op.Location.FirstName ?? "weight";

    /// <summary>
    /// The Conv, ConvTranspose, Gemm and MatMul whose weight is computed, not a constant: under --debug, and for the
    /// first three (whose weight is a weight, where a MatMul's second input may well be an activation) a note the user
    /// always sees, since their weights stay float.
    /// </summary>
    private static void ReportUnquantizableWeights(MirModule module, PassContext context)
    {
        foreach (var op in module.AllOperations())
        {
            if (context.Dialects.Interface<IWeightLayout>(op)?.WeightAxesOf(op) is not { } axes) continue;
            var w = op.GetOperand(axes.WeightOperand);
            bool dequantized = w is OpResult { Owner: var producer } && DequantizeLinearOp.Is(producer);
            if (!OnnxViews.IsNoValue(w) && !Constants.IsConstant(w, context.Dialects) && !dequantized && w.Type is TensorType { Element.IsFloat: true })
            {
                context.Skip(op, "its weight is not a constant");
                if (!MatMulOp.Is(op))
                    context.Note($"quantize-weights: {op.OpType} '{op.Location.FirstName ?? op.OpType}' keeps a float weight: it is computed at run time" +
                                 $"{(w is OpResult r ? $" (by {r.Owner.OpType} '{r.Owner.Location.FirstName ?? r.Owner.OpType}')" : " (a graph input)")}" +
                                 "; --fold-constants first folds it if its inputs are constants");
            }
        }
    }
}
