using System.Runtime.InteropServices;
using Mopt.Dialects.Mo;
using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>
/// <c>--quantize-weights='per-channel=true min-size=1024'</c>: weight-only int8. Each large float constant becomes
/// an 8-bit constant that a DequantizeLinear turns back into floats when the model runs, so the file holds a byte
/// per weight instead of four. <c>--quantize-weights='bits=4 block-size=32'</c>: the weights of MatMul, Gemm and Conv
/// become int4 with a scale per block of 32 along their input axis (opset 21's blocked DequantizeLinear), about 6x
/// smaller.
/// <code>
/// Before: %w = "onnx.Constant"() {value = dense_resource&lt;conv1.weight&gt; : tensor&lt;16x3x3x3xf32&gt;}
///         %y = "onnx.Conv"(%x, %w, %b)
/// After:  %q = "onnx.Constant"() {value = dense_resource&lt;conv1.weight_quantized&gt; : tensor&lt;16x3x3x3xi8&gt;}
///         %s = "onnx.Constant"() {value = dense&lt;[...]&gt; : tensor&lt;16xf32&gt;}
///         %z = "onnx.Constant"() {value = dense&lt;0&gt; : tensor&lt;16xi8&gt;}
///         %w = "onnx.DequantizeLinear"(%q, %s, %z) {axis = 0 : i64} : (...) -> tensor&lt;16x3x3x3xf32&gt;
///         %y = "onnx.Conv"(%x, %w, %b)
///
/// bits=4 block-size=32, a Gemm with transB = 1 (B is [N, K] = [256, 100]; blocks along K = 100, the last of 4;
/// stored transposed, [K, N], so that ONNX Runtime can run it as MatMulNBits):
/// Before: %w = "onnx.Constant"() {value = dense_resource&lt;fc.weight&gt; : tensor&lt;256x100xf32&gt;}
///         %y = "onnx.Gemm"(%x, %w, %b) {transB = 1}
/// After:  %q = "onnx.Constant"() {value = dense_resource&lt;fc.weight_quantized&gt; : tensor&lt;100x256xi4&gt;}
///         %s = "onnx.Constant"() {value = dense_resource&lt;fc.weight_scale&gt; : tensor&lt;4x256xf32&gt;}
///         %t = "onnx.DequantizeLinear"(%q, %s) {axis = 0 : i64, block_size = 32 : i64} : (...) -> tensor&lt;100x256xf32&gt;
///         %y = "onnx.Gemm"(%x, %t, %b) {transB = 0}
/// </code>
/// Per slice c along the axis (or the whole tensor): <c>scale = max|w| / 127</c>, <c>q = clamp(round_half_even(w /
/// scale), -127, 127)</c> (symmetric); asymmetric uses <c>[min, max] ∪ {0}</c> over the full integer range and a zero
/// point (<see cref="QuantMath.ForRange"/>). The axis is the consumer's output channel, as its definition's
/// <see cref="IWeightLayout"/> gives it: Conv W → 0, ConvTranspose W (rank ≥ 2) → 1, Gemm B (rank 2) → 0 with
/// transB = 1 else 1, MatMul B (rank ≥ 2) → its last axis; and Gemm A (rank 2) → 0 (1 with transA = 1); anything
/// else, or consumers that disagree, or <c>per-channel=false</c> → one scale for the tensor.
/// <para>
/// Blocks (<c>block-size=B</c>, a power of two from 16; the default with bits=4 is 32): one scale per B elements along
/// the consumer's input (reduction) axis: Gemm B → 1 with transB = 1 else 0, MatMul B → rank − 2, Conv W → 1 (C/group).
/// The scale has the weight's shape with that axis's length D replaced by ceil(D / B): when B does not divide D the
/// last block is shorter, as DequantizeLinear-21 defines it (an error would refuse common widths such as 100). A
/// Gemm's B read with transB = 1 (all its uses) is stored transposed with transB = 0, blocks along axis 0: the only
/// layout ONNX Runtime fuses into MatMulNBits.
/// Symmetric 4-bit follows ONNX Runtime's own blockwise quantizer (MLAS <c>range2scale</c>, used by its
/// <c>matmul_4bits_quantizer</c>): per block, the value m of largest magnitude maps to -8, <c>scale = -m / 8</c>, q in
/// the full [-8, 7], no zero point for int4 (0, ONNX's default; 8 for uint4); rounding is ONNX QuantizeLinear's
/// (half to even). A weight whose consumers have no input axis (ConvTranspose, Add, Gather, ...; or consumers that
/// disagree) or whose input axis is shorter than one block is quantized to 8 bits as without blocks (same signedness),
/// and says why under --debug.
/// </para>
/// Applies to a constant (<c>onnx.Constant</c>) of f32 with a static shape and at least <c>min-size</c> elements (f16/bf16 only at
/// opset 19+, where DequantizeLinear can return them) whose every use is an ordinary data input of an operation
/// mopt has a definition of. Skipped, with the reason: a weight holding inf or nan, a constant that is a graph output or a parameter
/// that must stay exact (Resize scales, Pad value, Clip bounds, ...), f64. Per-channel needs opset 13 and per tensor
/// opset 10: the opset is raised (<see cref="OpsetUpgrade"/>); when that is refused the pass falls back to per tensor,
/// or does nothing, and says so. 4-bit types and blocks need opset 21: when the upgrade to 21 is refused the pass
/// fails with the reason (naming the operation), and nothing is written.
/// </summary>
public sealed class QuantizeWeights : Pass
{
    /// <summary>The opset whose DequantizeLinear reads int4/uint4 and blocks.</summary>
    public const int BlockedOpset = 21;

    private readonly PassOption<bool> _perChannel = new("per-channel", "one scale per output channel where the consumer has one (needs opset 13)", true);
    private readonly PassOption<long> _minSize = new("min-size", "smallest tensor (in elements) to quantize; smaller ones stay float", 1024, valid: n => n >= 1);
    private readonly PassOption<bool> _symmetric = new("symmetric", "zero point 0 and [-127, 127] (true) or the full range with a zero point (false)", true);
    private readonly PassOption<string> _type = new("type", "int8 or uint8 (bits=8), int4 or uint4 (bits=4); default the signed one", "int8",
        valid: t => t is "int8" or "uint8" or "int4" or "uint4", allowed: "int8, uint8, int4 or uint4");
    private readonly PassOption<int> _bits = new("bits", "bits per weight: 8, or 4 (int4/uint4, opset 21)", 8, valid: b => b is 4 or 8, allowed: "4 or 8");
    private readonly PassOption<long> _blockSize = new("block-size",
        "one scale per this many elements along the consumer's input axis (opset 21); 0: none (per output channel); default 32 with bits=4, else 0",
        0, valid: IsBlockSize, allowed: "0 (no blocks) or a power of two from 16 (16, 32, 64, 128, ...)");

    public override string Name => "quantize-weights";
    public override string Summary => "Weight-only int8 (or int4 in blocks, bits=4): large float constants become integers + DequantizeLinear, about 4x (6x) smaller";
    public override IReadOnlyList<PassOption> Options => [_perChannel, _minSize, _symmetric, _type, _bits, _blockSize];

    /// <summary>ONNX Runtime fuses a blocked DequantizeLinear into its MatMulNBits kernel only for powers of two from 16.</summary>
    private static bool IsBlockSize(long b) => b == 0 || b >= 16 && (b & (b - 1)) == 0;

    /// <summary>A weight to quantize, the axis its per-channel scales run along (null: one scale), and its consumers' input axis (null: none agreed).</summary>
    private sealed record Candidate(Operation Constant, TensorType Type, int? Axis, int? InputAxis);

    /// <summary>
    /// How one weight is quantized: the type, the axis of its scales (null: one scale), the block size along it (0: per
    /// slice), and whether it is stored transposed (a Gemm's [N, K] B with transB = 1 becomes [K, N] with transB = 0).
    /// </summary>
    private sealed record Form(QuantType Type, int? Axis, long BlockSize, bool TransposeGemmB = false);

    /// <summary>The options resolved: bits from type when only type is given; the 4-bit default block of 32.</summary>
    private (QuantType Type, long BlockSize) Settings()
    {
        int bits = _bits.IsSet ? _bits.Value : _type.IsSet && _type.Value.EndsWith('4') ? 4 : 8;
        string typeName = _type.IsSet ? _type.Value : bits == 4 ? "int4" : "int8";
        if ((typeName.EndsWith('4') ? 4 : 8) != bits)
            throw new PipelineException($"pass 'quantize-weights': type={typeName} is not {(bits == 8 ? "an" : "a")} {bits}-bit type (bits={bits} takes {(bits == 4 ? "int4 or uint4" : "int8 or uint8")})");
        var type = typeName switch { "uint8" => QuantType.UInt8, "int4" => QuantType.Int4, "uint4" => QuantType.UInt4, _ => QuantType.Int8 };
        return (type, _blockSize.IsSet ? _blockSize.Value : bits == 4 ? 32 : 0);
    }

    public override void SetOptionsFromPairs(IEnumerable<(string Key, string Value)> pairs)
    {
        base.SetOptionsFromPairs(pairs);
        Settings(); // a type of the other width is an error before the model is read
    }

    public override void Run(MirModule module, PassContext context)
    {
        var (quantType, blockSize) = Settings();
        bool needsOpset21 = QuantMath.IsFourBit(quantType) || blockSize > 0;
        ReportUnquantizableWeights(module, context);

        int opset = OpsetUpgrade.CurrentOpset(module);
        var candidates = new List<Candidate>();
        foreach (var op in module.AllOperations().Where(o => context.Dialects.Has(o, OpTraits.ConstantLike)).ToList())
            if (Select(op, module, needsOpset21 ? Math.Max(opset, BlockedOpset) : opset, context) is { } c) candidates.Add(c);
        if (candidates.Count == 0) return;

        List<Form> forms;
        if (needsOpset21)
        {
            EnsureOpset21(module, quantType, blockSize, context);
            forms = candidates.Select(c => FormOf(c, quantType, blockSize, context)).ToList();
        }
        else
        {
            bool perChannel = _perChannel.Value && candidates.Any(c => c.Axis is not null);
            if (!EnsureOpset(module, perChannel, context, out perChannel)) return;
            forms = candidates.Select(c => new Form(quantType, perChannel ? c.Axis : null, 0)).ToList();
        }

        var replacedKeys = new HashSet<string>(StringComparer.Ordinal);
        long bytesBefore = 0, bytesAfter = 0;
        for (int k = 0; k < candidates.Count; k++)
        {
            var (candidate, form) = (candidates[k], forms[k]);
            var tensor = Constants.TryGet(candidate.Constant.Result, module)!;
            // A float32 weight is read in place (a mapped file's pages), others widened to floats once.
            ReadOnlySpan<float> values = tensor.Type.Element == ElementType.F32 ? MemoryMarshal.Cast<byte, float>(tensor.Bytes.Span) : tensor.ToFloats();
            if (!AllFinite(values)) { context.Skip(candidate.Constant, "holds inf or nan"); continue; }
            var shape = candidate.Type.Shape!;
            if (form.TransposeGemmB)
            {
                values = Transpose2D(values, shape[0], shape[1]);
                shape = [shape[1], shape[0]];
            }
            var (parameters, data) = form.BlockSize > 0
                ? QuantMath.QuantizeBlocked(values, shape, form.Axis!.Value, form.BlockSize, form.Type, _symmetric.Value)
                : QuantMath.QuantizeTensor(values, shape, form.Axis, form.Type, _symmetric.Value);
            if (candidate.Type.Element != ElementType.F32)
                (parameters, data) = RequantizeWithScalesOf(new TensorType(candidate.Type.Element, shape), form, values, parameters);
            // Read: a weight of a mapped file leaves the process (a model larger than memory streams through).
            MappedMemory.Release(tensor.Bytes);
            if (parameters.Any(p => p.Scale == 0 || !float.IsFinite(p.Scale)))
            {
                context.Skip(candidate.Constant, "its values are too small for a float scale");
                continue;
            }
            if (Constants.ValueAttribute(candidate.Constant, context.Dialects) is DenseResourceAttr old) replacedKeys.Add(old.Key);
            bytesBefore += tensor.Bytes.Length;
            bytesAfter += Replace(candidate, form, new TensorType(candidate.Type.Element, shape), parameters, data, module);
            context.Count("tensors quantized");
            context.Count(form.BlockSize > 0 ? $"in blocks of {form.BlockSize}" : form.Axis is null ? "per tensor" : "per channel");
            if (QuantMath.IsFourBit(form.Type)) context.Count(QuantGraph.TypeName(form.Type));
            if (form.TransposeGemmB) context.Count("Gemm B transposed (transB = 0)");
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
    /// How a weight is quantized when 4-bit types or blocks are asked for: in blocks along its consumers' input axis
    /// when it has one at least a block long; otherwise per channel (or per tensor) — with 8 bits when blocks were
    /// asked for, since 16 levels for a whole channel lose too much, saying why.
    /// </summary>
    private Form FormOf(Candidate c, QuantType type, long blockSize, PassContext context)
    {
        int? axis = _perChannel.Value ? c.Axis : null;
        if (blockSize == 0) return new Form(type, axis, 0);
        if (c.InputAxis is int inputAxis && c.Type.Shape![inputAxis] >= blockSize)
        {
            // ONNX Runtime runs a blocked weight as MatMulNBits only with the blocks along axis 0 of a [K, N] B: a Gemm's
            // [N, K] B (transB = 1, PyTorch's Linear) is stored transposed, and its Gemm reads it with transB = 0.
            bool transpose = inputAxis == 1 && c.Constant.Result.Uses.All(u => GemmOp.TryGet(u.Owner) is { TransB: 1 } && u.Index == 1);
            return transpose ? new Form(type, 0, blockSize, TransposeGemmB: true) : new Form(type, inputAxis, blockSize);
        }
        var eightBit = type is QuantType.Int4 or QuantType.Int8 ? QuantType.Int8 : QuantType.UInt8;
        context.Skip(c.Constant, c.InputAxis is int ia
            ? $"{QuantGraph.TypeName(eightBit)} per {(axis is null ? "tensor" : "channel")} instead of blocks: its input axis {ia} has {c.Type.Shape![ia]} elements, fewer than a block of {blockSize}"
            : $"{QuantGraph.TypeName(eightBit)} per {(axis is null ? "tensor" : "channel")} instead of blocks: {NoInputAxisReason(c)}");
        return new Form(eightBit, axis, 0);
    }

    private static string NoInputAxisReason(Candidate c)
    {
        var uses = c.Constant.Result.Uses;
        if (uses.Any(u => InputAxisFor(u, c.Type) is not null)) return "its consumers do not share an input axis";
        var use = uses[0];
        return $"it is input {use.Index} of {use.Owner.OpType} '{QuantGraph.OpName(use.Owner)}', which has no input axis to block along " +
               "(blocks are for the B of MatMul and Gemm and the W of Conv)";
    }

    /// <summary>Raises the opset to 21 for int4/uint4 or blocks; a refusal is an error naming the operation, since no smaller form is what was asked for.</summary>
    private static void EnsureOpset21(MirModule module, QuantType type, long blockSize, PassContext context)
    {
        int from = OpsetUpgrade.CurrentOpset(module);
        string needs = (QuantMath.IsFourBit(type) ? $"{QuantGraph.TypeName(type)} weights" : "") +
                       (QuantMath.IsFourBit(type) && blockSize > 0 ? " in " : "") + (blockSize > 0 ? $"blocks of {blockSize}" : "");
        if (!OpsetUpgrade.TryUpgrade(module, BlockedOpset, context, out var why))
            throw new MirException($"quantize-weights: {needs} need opset {BlockedOpset} (DequantizeLinear-21), but the model is opset {from} and cannot be raised: {why}");
        if (from < BlockedOpset) context.Note($"quantize-weights: raised the opset from {from} to {BlockedOpset} for {needs}");
        // A weight listed as a graph input could be overridden at run time; as an int4 input it is one ONNX Runtime's
        // C# API cannot even describe (element type 22).
        if (module.Op.RemoveAttr("onnx.initializers_as_inputs"))
            context.Note("quantize-weights: the model listed its weights as graph inputs (IR version 3 style); they are now plain initializers");
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

        int? axis = null, inputAxis = null;
        bool first = true;
        foreach (var use in op.Result.Uses)
        {
            var (useAxis, reason) = AxisFor(use, type, context.Dialects);
            if (reason is not null) { context.Skip(op, reason); return null; }
            int? useInputAxis = InputAxisFor(use, type);
            // Consumers that want different axes share one scale (and no blocks).
            axis = first ? useAxis : axis == useAxis ? axis : null;
            inputAxis = first ? useInputAxis : inputAxis == useInputAxis ? inputAxis : null;
            first = false;
        }
        if (axis is int a && type.Shape![a] <= 1) axis = null;
        return new Candidate(op, type, axis, inputAxis);
    }

    /// <summary>The axis a consumer sums over (the weight's input axis): Gemm B, MatMul B, Conv W; null for any other use.</summary>
    private static int? InputAxisFor(OpOperand use, TensorType type)
    {
        var user = use.Owner;
        int rank = type.Rank;
        if (GemmOp.TryGet(user) is { } gemm && use.Index == 1 && rank == 2) return gemm.TransB == 1 ? 1 : 0;
        if (MatMulOp.Is(user) && use.Index == 1 && rank >= 2) return rank - 2;
        if (ConvOp.Is(user) && use.Index == 1 && rank >= 3) return 1;
        return null;
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
    private static (QuantParams[], byte[]) RequantizeWithScalesOf(TensorType type, Form form, ReadOnlySpan<float> values, QuantParams[] parameters)
    {
        var rounded = parameters.Select(p => p with { Scale = (float)ElementCodec.RoundTo(type.Element, p.Scale) }).ToArray();
        var data = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            var p = rounded[QuantMath.ParamsIndex(i, type.Shape!, form.Axis, form.BlockSize)];
            data[i] = unchecked((byte)QuantMath.Quantize(values[i], p, form.Type));
        }
        return (rounded, QuantMath.Store(data, form.Type));
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    private static float[] Transpose2D(ReadOnlySpan<float> values, long rows, long columns)
    {
        var t = new float[values.Length];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < columns; c++) t[c * rows + r] = values[(int)(r * columns + c)];
        return t;
    }

    /// <summary>
    /// Replaces the constant by integers + scale (+ zero point) + DequantizeLinear of <paramref name="stored"/> (the
    /// weight's type, or its transpose); returns the bytes they take.
    /// </summary>
    private static long Replace(Candidate c, Form form, TensorType stored, QuantParams[] parameters, byte[] data, MirModule module)
    {
        var op = c.Constant;
        var name = OutputName(op);
        var builder = OpBuilder.Before(op);
        var quantized = Constants.Create(builder, module, stored.WithElement(QuantMath.ElementOf(form.Type)), data, Location.Named(name + "_quantized"), name + "_quantized");
        // Per tensor: scalars (DequantizeLinear-10's form); per channel: one entry per slice along the axis; blocked:
        // the weight's shape with the axis in blocks. The scale has the weight's float type, so DequantizeLinear gives
        // back the type the readers expect.
        long[] shape = form.BlockSize > 0
            ? stored.Shape!.Select((d, k) => k == form.Axis ? QuantMath.BlockCount(d, form.BlockSize) : d).ToArray()
            : parameters.Length == 1 ? [] : [parameters.Length];
        // Symmetric int4 has zero points 0, ONNX's default: left out, as ONNX Runtime's own 4-bit quantizer does.
        bool noZeroPoint = form.Type == QuantType.Int4 && parameters.All(p => p.ZeroPoint == 0);
        var (scale, zeroPoint) = noZeroPoint
            ? (QuantGraph.Floats(builder, module, parameters.Select(p => p.Scale).ToArray(), shape, name + "_scale", c.Type.Element), null)
            : QuantGraph.Params(builder, module, parameters, form.Type, name, shape, c.Type.Element);
        var dq = QuantGraph.Dequantize(builder, quantized, scale, zeroPoint, form.Axis, name + "_DequantizeLinear", form.BlockSize);
        // The dequantized tensor keeps the weight's name, so the consumers still read "conv1.weight" (a transposed one
        // is another tensor, named so).
        ((OpResult)dq).Owner.SetAttr(MoDialect.OutputsAttr, ArrayAttr.OfStrings([form.TransposeGemmB ? name + "_transposed" : name]));
        if (form.TransposeGemmB)
            foreach (var use in op.Result.Uses.ToList()) use.Owner.SetAttr("transB", IntegerAttr.I64(0));
        op.Result.ReplaceAllUsesWith(dq);
        op.Erase();
        long zeroBytes = noZeroPoint ? 0 : QuantMath.IsFourBit(form.Type) ? (parameters.Length + 1) / 2 : parameters.Length;
        return data.Length + (long)parameters.Length * c.Type.Element.ByteSize + zeroBytes;
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
