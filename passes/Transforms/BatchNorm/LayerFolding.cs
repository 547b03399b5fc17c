using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Mopt.Ir;

namespace Mopt.Passes.BatchNorm;

/// <summary>
/// Folding <c>y = s * layer(x) + t</c> (per output channel) into the layer's weight and bias, shared by
/// <c>--fold-bn</c> and <c>--fuse-conv-add-mul</c>:
/// <code>
/// Conv / ConvTranspose:  W'[.. m ..] = W[.. m ..] * s[m]        b'[m] = b[m] * s[m] + t[m]   (b = 0 when absent)
/// Gemm:                  B' columns n scaled by s[n]            C' = beta * C * s + t, beta' = 1
/// MatMul(x, W) / (W, x): W' columns / rows scaled by s          then Add(t) (MatMul has no bias)
/// </code>
/// Which weight axis holds the output channels is the op's <see cref="IWeightLayout"/>. The weight and bias
/// constants are new (a constant shared by another op is never changed); the fused op is created in place of the
/// layer and replaces the ops it absorbs through the rewriter, which hands it their result type, uses and result
/// name, fuses their locations into its own (<c>fused[layer, absorbed]</c>; a MatMul's Add is at the absorbed op's
/// location; a copy of a layer that stays, at <c>fused[absorbed, layer]</c>), and erases the old layer and weights
/// once nothing reads them.
/// </summary>
internal static class LayerFolding
{
    /// <summary>The layer kind of <paramref name="op"/>, or null when it has no weight a scale can go into.</summary>
    public static LayerKind? KindOf(Operation op, DialectRegistry registry) =>
        registry.Interface<IWeightLayout>(op) is null ? null
        : op.OpType switch
        {
            "Conv" => LayerKind.Conv,
            "ConvTranspose" => LayerKind.ConvTranspose,
            "Gemm" => LayerKind.Gemm,
            "MatMul" => LayerKind.MatMul,
            _ => null,
        };

    public static bool IsLayer(Operation op, DialectRegistry registry) => KindOf(op, registry) is not null;

    /// <summary>The layer's weight, bias and channel layout, or null with the reason it cannot absorb a scale.</summary>
    public static Layer? Analyze(Operation op, MirModule module, DialectRegistry registry, out string reason)
    {
        reason = "";
        if (op.Results.Count != 1) return Fail($"has {op.Results.Count} results", out reason);
        if (KindOf(op, registry) is not { } kind || registry.Interface<IWeightLayout>(op)!.WeightAxesOf(op) is not { } axes)
            return Fail($"{op.Name} is not a Conv, ConvTranspose, Gemm or MatMul", out reason);
        return kind switch
        {
            LayerKind.Conv or LayerKind.ConvTranspose => AnalyzeConv(op, kind, axes, module, out reason),
            LayerKind.Gemm => AnalyzeGemm(op, axes, module, out reason),
            _ => AnalyzeMatMul(op, axes, module, out reason),
        };
    }

    private static Layer? Fail(string why, out string reason)
    {
        reason = why;
        return null;
    }

    private static bool HasOperand(Operation op, int index) => index >= 0 && op.OperandCount > index && op.GetOperand(index).Type != ElementType.None;

    private static Layer? AnalyzeConv(Operation op, LayerKind kind, WeightAxes axes, MirModule module, out string reason)
    {
        if (op.OperandCount is < 2 or > 3) return Fail($"has {op.OperandCount} operands", out reason);
        if (FloatData.TryGet(op.GetOperand(axes.WeightOperand), module, "weight", out var why) is not { } wt) return Fail(why!, out reason);
        var shape = wt.Type.Shape!;
        if (shape.Count < 3) return Fail($"weight {wt.Type} has rank {shape.Count}, below 3", out reason);
        long group = op.ReadInt("group") ?? 1;
        if (group < 1) return Fail($"group = {group}", out reason);
        // Axis 0 splits into the groups: Conv's output channels, ConvTranspose's input channels.
        if (shape[0] % group != 0)
            return Fail($"weight {wt.Type}: {shape[0]} {(kind == LayerKind.Conv ? "output" : "input")} channels do not split into group = {group}", out reason);
        // A ConvTranspose weight holds the output channels of one group.
        long channels = kind == LayerKind.ConvTranspose ? shape[axes.OutputAxis] * group : shape[axes.OutputAxis];
        double[]? bias = null;
        TensorType? biasType = null;
        if (HasOperand(op, axes.BiasOperand))
        {
            if (FloatData.TryRead(op.GetOperand(axes.BiasOperand), module, "bias", out var bt, out why) is not { } b) return Fail(why!, out reason);
            if (b.Length != channels) return Fail($"bias {bt!.Type} does not have {channels} elements", out reason);
            bias = b;
            biasType = bt!.Type;
        }
        reason = "";
        return new Layer
        {
            Op = op, Kind = kind, Axes = axes, Weight = wt,
            Channels = checked((int)channels), OutputRank = shape.Count, Group = group, Bias = bias, BiasType = biasType,
        };
    }

    private static Layer? AnalyzeGemm(Operation op, WeightAxes axes, MirModule module, out string reason)
    {
        if (op.OperandCount is < 2 or > 3) return Fail($"has {op.OperandCount} operands", out reason);
        if (FloatData.TryGet(op.GetOperand(axes.WeightOperand), module, "weight B", out var why) is not { } bt) return Fail(why!, out reason);
        if (bt.Type.Rank != 2) return Fail($"weight B {bt.Type} is not 2-D", out reason);
        long n = bt.Type.Shape![axes.OutputAxis];
        double beta = op.ReadFloat("beta") ?? 1.0;
        double[]? c = null;
        TensorType? ct = null;
        if (HasOperand(op, axes.BiasOperand) && beta != 0)
        {
            if (FloatData.TryRead(op.GetOperand(axes.BiasOperand), module, "C", out var cTensor, out why) is not { } cv) return Fail(why!, out reason);
            var cs = cTensor!.Type.Shape!;
            if (cs.Count > 2 || (cs.Count >= 1 && cs[^1] != 1 && cs[^1] != n))
                return Fail($"C {cTensor.Type} does not broadcast to the {n} output columns", out reason);
            c = cv;
            ct = cTensor.Type;
        }
        reason = "";
        return new Layer
        {
            Op = op, Kind = LayerKind.Gemm, Axes = axes, Weight = bt, Channels = checked((int)n),
            OutputRank = 2, Bias = c, BiasType = ct, Beta = beta,
        };
    }

    private static Layer? AnalyzeMatMul(Operation op, WeightAxes axes, MirModule module, out string reason)
    {
        if (op.OperandCount != 2) return Fail($"has {op.OperandCount} operands", out reason);
        int index = axes.WeightOperand;
        if (!Constants.IsConstant(op.GetOperand(index))) return Fail("MatMul weight not constant (neither input is)", out reason);
        if (FloatData.TryGet(op.GetOperand(index), module, "MatMul weight", out var why) is not { } wt) return Fail(why!, out reason);
        if (wt.Type.Rank != 2) return Fail($"MatMul weight {wt.Type} is not 2-D", out reason);
        // With a 2-D weight, the output has the other input's rank (a 1-D input gives a 1-D output).
        int rank = op.Result.Type is TensorType { IsRanked: true } rt ? rt.Rank
            : op.GetOperand(1 - index).Type is TensorType { IsRanked: true } xt ? xt.Rank : -1;
        reason = "";
        return new Layer
        {
            Op = op, Kind = LayerKind.MatMul, Axes = axes, Weight = wt,
            Channels = checked((int)wt.Type.Shape![axes.OutputAxis]), OutputRank = rank,
        };
    }

    /// <summary>The first user of the layer's output that is not one of <paramref name="consumers"/> (a return counts).</summary>
    public static Operation? OtherUser(Layer layer, IReadOnlyList<Operation> consumers)
    {
        var uses = layer.Op.Result.Uses;
        for (int i = 0; i < uses.Count; i++)
        {
            var user = uses[i].Owner;
            bool isConsumer = false;
            for (int k = 0; k < consumers.Count && !isConsumer; k++) isConsumer = consumers[k] == user;
            if (!isConsumer) return user;
        }
        return null;
    }

    /// <summary>
    /// Replaces <c>affine(layer(x))</c>, computed by <paramref name="consumers"/> (all reading the layer's output
    /// and computing the same map), by one fused layer, through <paramref name="rewriter"/>; returns it. The
    /// consumers are erased, the layer and its old weights too when nothing else reads them (else the layer stays,
    /// and the fused op is a copy).
    /// </summary>
    public static Operation Fold(Layer layer, ChannelAffine affine, IReadOnlyList<Operation> consumers, PatternRewriter rewriter)
    {
        if (affine.Channels != layer.Channels) throw new ArgumentException($"{affine.Channels} channels for a layer with {layer.Channels}");
        var module = rewriter.Module;
        var op = layer.Op;
        var absorbed = new Location[consumers.Count];
        for (int i = 0; i < absorbed.Length; i++) absorbed[i] = consumers[i].Location;
        // A copy of a layer that stays (its output has other readers) is named after what it absorbed first, so
        // the two do not share a name (ONNX node names are unique), and has no result names of its own.
        bool copy = OtherUser(layer, consumers) is not null;
        var location = copy ? Location.Fuse([.. absorbed, op.Location], null) : op.Location;
        rewriter.SetInsertionPointBefore(op);
        var s = affine.Scale;
        var t = affine.Shift;
        int m = layer.Channels;

        // Weight (kept as it is when nothing scales it: a pure shift only changes the bias).
        var operands = new List<Value>(op.OperandCount + 1);
        for (int i = 0; i < op.OperandCount; i++) operands.Add(op.GetOperand(i));
        if (ScalesAnything(s))
        {
            var weightOp = Constants.DefiningConstant(op.GetOperand(layer.WeightIndex))!;
            var weightLoc = Location.Fuse([weightOp.Location, .. absorbed], null);
            operands[layer.WeightIndex] = Constants.Create(rewriter.Builder, module, layer.WeightType,
                ScaleWeight(layer, s, module), weightLoc, BlobHint(weightOp, layer.Name + ".weight"));
        }

        var names = rewriter.Registry.ResultNames;
        // The fused op sorts its attributes by name, so their order here does not matter.
        var attrs = new List<NamedAttr>(op.AttributeCount + 1);
        for (int i = 0; i < op.AttributeCount; i++)
            if (!copy || names is null || !names.IsResultNames(op.Attributes[i].Name)) attrs.Add(op.Attributes[i]);
        var resultType = consumers[0].Result.Type;

        // Bias.
        Value? biasValue = null;
        int biasIndex = layer.Axes.BiasOperand >= 0 ? layer.Axes.BiasOperand : 2;
        switch (layer.Kind)
        {
            case LayerKind.Conv or LayerKind.ConvTranspose:
                if (layer.Bias is not null || affine.HasShift)
                {
                    var type = layer.BiasType ?? new TensorType(layer.WeightType.Element, [m]);
                    biasValue = CreateBias(rewriter, op, biasIndex, type, ConvBias(layer.Bias, s, t, type.Element, module), absorbed, layer.Name);
                }
                break;
            case LayerKind.Gemm:
                if (layer.Bias is { } c0)
                {
                    var cs = layer.BiasType!.Shape!;
                    long rows = cs.Count == 2 ? cs[0] : 1, cols = cs.Count >= 1 ? cs[^1] : 1;
                    var c1 = new double[checked(rows * m)];
                    for (long i = 0; i < rows; i++)
                        for (int n = 0; n < m; n++)
                            c1[i * m + n] = layer.Beta * c0[i * cols + (cols == 1 ? 0 : n)] * s[n] + t[n];
                    var type = new TensorType(layer.BiasType.Element, cs.Count == 2 ? [rows, m] : [m]);
                    biasValue = CreateBias(rewriter, op, biasIndex, type, c1, absorbed, layer.Name);
                    SetAttr(attrs, "beta", FloatAttr.F32(1));
                }
                else if (affine.HasShift)
                {
                    biasValue = CreateBias(rewriter, op, biasIndex, new TensorType(layer.WeightType.Element, [m]), t, absorbed, layer.Name);
                    SetAttr(attrs, "beta", FloatAttr.F32(1));
                }
                break;
        }
        if (biasValue is not null)
        {
            if (operands.Count > biasIndex) operands[biasIndex] = biasValue;
            else operands.Add(biasValue);
        }

        Operation fused;
        if (layer.Kind == LayerKind.MatMul && affine.HasShift)
        {
            // MatMul has no bias: the shift becomes an Add after it, shaped to broadcast along the channel axis. The
            // MatMul absorbs the scale (and keeps the layer's name), the Add is the absorbed op's shift (and takes its place).
            var matmul = rewriter.Create(op.Name, operands, [op.Result.Type], attrs, copy ? location : Location.Fuse([op.Location, .. absorbed], null));
            var shiftType = new TensorType(layer.WeightType.Element, layer.FeatureAxis == layer.OutputRank - 1 ? [m] : [m, 1]);
            var shift = CreateBias(rewriter, op, -1, shiftType, t, absorbed, layer.Name);
            fused = rewriter.Create("onnx.Add", [matmul.Result, shift], [resultType]);
        }
        else
        {
            fused = rewriter.Create(op.Name, operands, [resultType], attrs, location);
        }

        foreach (var consumer in consumers) rewriter.ReplaceOp(consumer, fused);
        return fused;
    }

    private static bool ScalesAnything(double[] s)
    {
        foreach (var v in s)
            if (v != 1) return true;
        return false;
    }

    private static void SetAttr(List<NamedAttr> attrs, string name, Attr value)
    {
        for (int i = 0; i < attrs.Count; i++)
            if (attrs[i].Name == name)
            {
                attrs[i] = new NamedAttr(name, value);
                return;
            }
        attrs.Add(new NamedAttr(name, value));
    }

    /// <summary>
    /// <c>b'[c] = b[c] * s[c] + t[c]</c> (b = 0 when absent), in double, written straight into the bytes of the new
    /// bias, each rounded once to <paramref name="element"/> (as <see cref="ElementCodec.EncodeFloats(ReadOnlySpan{double}, ElementType)"/> would),
    /// in <paramref name="module"/>'s memory for new constants.
    /// </summary>
    private static Memory<byte> ConvBias(double[]? old, double[] s, double[] t, ElementType element, MirModule module)
    {
        int m = s.Length, size = element.ByteSize;
        var bytes = Constants.Allocate(module, m * size);
        var span = bytes.Span;
        if (element == ElementType.F32)
        {
            var to = MemoryMarshal.Cast<byte, float>(span);
            for (int c = 0; c < m; c++) to[c] = (float)((old is not null ? old[c] * s[c] : 0) + t[c]);
            return bytes;
        }
        for (int c = 0; c < m; c++) ElementCodec.WriteFloat(span.Slice(c * size, size), element, (old is not null ? old[c] * s[c] : 0) + t[c]);
        return bytes;
    }

    private static Value CreateBias(PatternRewriter rewriter, Operation op, int index, TensorType type, double[] values,
        Location[] absorbed, string layerName) =>
        CreateBias(rewriter, op, index, type, Constants.EncodeFloats(rewriter.Module, values, type.Element), absorbed, layerName);

    private static Value CreateBias(PatternRewriter rewriter, Operation op, int index, TensorType type, ReadOnlyMemory<byte> bytes,
        Location[] absorbed, string layerName)
    {
        var oldOp = index >= 0 && index < op.OperandCount ? Constants.DefiningConstant(op.GetOperand(index)) : null;
        var baseLoc = oldOp?.Location is { } l && l is not UnknownLoc ? l : Location.Named(layerName + ".bias");
        var loc = Location.Fuse([baseLoc, .. absorbed], null);
        return Constants.Create(rewriter.Builder, rewriter.Module, type, bytes, loc,
            oldOp is not null ? BlobHint(oldOp, layerName + ".bias") : layerName + ".bias");
    }

    /// <summary>A blob key for a rewritten constant: the old blob's key (made unique), else its name.</summary>
    internal static string BlobHint(Operation constantOp, string fallback) =>
        constantOp.GetAttr("value") is DenseResourceAttr r ? r.Key : constantOp.Location.FirstName ?? fallback;

    /// <summary>
    /// The weight with output channel m scaled by s[m], encoded in the weight's element type. The channel of an
    /// element is its index along the layout's output axis, or, when that axis holds one group's channels
    /// (ConvTranspose's [C, M/group, k...]), the group its input channel is in times the group's size plus that index.
    /// Each element is computed in double and rounded once to the weight's type, into <paramref name="module"/>'s memory for
    /// new constants.
    /// </summary>
    public static ReadOnlyMemory<byte> ScaleWeight(Layer layer, double[] s, MirModule module) =>
        ScaleOutputChannels(layer.Weight, layer.Axes.OutputAxis, layer.Axes.InputAxis, layer.Channels, layer.Group, s, module);

    /// <summary>
    /// <see cref="ScaleWeight"/> for any weight laid out with its output channels on <paramref name="outAxis"/> and its
    /// input channels on <paramref name="inAxis"/> in <paramref name="group"/> groups (also Caffe's blobs, which
    /// --caffe-merge-bn scales).
    /// </summary>
    public static ReadOnlyMemory<byte> ScaleOutputChannels(ConstantTensor weight, int outAxis, int inAxis, long channels, long group, double[] s, MirModule module)
    {
        var shape = weight.Type.Shape!;
        var element = weight.Type.Element;
        long outSize = shape[outAxis], outStride = Stride(shape, outAxis);
        if (outSize == channels && element == ElementType.F32)
        {
            // The common case (every float32 Conv): float in, float out, no array of doubles for a large weight.
            var from = MemoryMarshal.Cast<byte, float>(weight.Bytes.Span);
            // Every element is written below, so the memory need not be zeroed first.
            var bytes = Constants.Allocate(module, from.Length * sizeof(float));
            var to = MemoryMarshal.Cast<byte, float>(bytes.Span);
            int stride = checked((int)outStride);
            int blocks = from.Length / stride;
            for (int b = 0, channel = 0; b < blocks; b++)
            {
                int start = b * stride;
                ScaleFloats(from.Slice(start, stride), to.Slice(start, stride), s[channel]);
                if (++channel == outSize) channel = 0;
            }
            // The old weight is read: when it is a mapped file's, its pages leave the process (a folded model then holds
            // each weight once, not its old and new bytes).
            MappedMemory.Release(weight.Bytes);
            return bytes;
        }
        var w = FloatData.Read(weight);
        if (outSize == channels)
        {
            // Blocks of outStride elements share a channel: one multiply per element, no index arithmetic.
            long blocks = w.Length / outStride;
            for (long b = 0; b < blocks; b++)
            {
                double factor = s[b % outSize];
                long start = b * outStride;
                for (long k = 0; k < outStride; k++) w[start + k] *= factor;
            }
        }
        else
        {
            long inSize = shape[inAxis], inPerGroup = inSize / group, inStride = Stride(shape, inAxis);
            for (long i = 0; i < w.Length; i++)
                w[i] *= s[i / inStride % inSize / inPerGroup * outSize + i / outStride % outSize];
        }
        MappedMemory.Release(weight.Bytes);
        return Constants.EncodeFloats(module, w, element);
    }

    /// <summary>
    /// <c>to[k] = (float)(from[k] * factor)</c>, the product in double as the scalar loop computes it: widening a float
    /// to double is exact and the vector multiply and narrowing round as the scalar ones do, so the bytes are the same.
    /// </summary>
    private static void ScaleFloats(ReadOnlySpan<float> from, Span<float> to, double factor)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var f = Vector256.Create(factor);
            for (; k <= from.Length - Vector256<float>.Count; k += Vector256<float>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(from.Slice(k, Vector256<float>.Count)));
                Vector256.Narrow(lower * f, upper * f).CopyTo(to.Slice(k));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var f = Vector128.Create(factor);
            for (; k <= from.Length - Vector128<float>.Count; k += Vector128<float>.Count)
            {
                var (lower, upper) = Vector128.Widen(Vector128.Create(from.Slice(k, Vector128<float>.Count)));
                Vector128.Narrow(lower * f, upper * f).CopyTo(to.Slice(k));
            }
        }
        for (; k < from.Length; k++) to[k] = (float)(from[k] * factor);
    }

    private static long Stride(IReadOnlyList<long> shape, int axis)
    {
        long stride = 1;
        for (int i = axis + 1; i < shape.Count; i++) stride *= shape[i];
        return stride;
    }
}
