using Mopt.Ir;

namespace Mopt.Passes.BatchNorm;

/// <summary>The layers a per-channel affine map after them can be folded into, and how their weight is laid out.</summary>
internal enum LayerKind
{
    /// <summary><c>onnx.Conv</c>: W is [M, C/group, k...], output channel m is W's row m.</summary>
    Conv,
    /// <summary><c>onnx.ConvTranspose</c>: W is [C, M/group, k...], output channel (c / (C/group)) * (M/group) + j.</summary>
    ConvTranspose,
    /// <summary><c>onnx.Gemm</c>: B is [K, N] (transB = 0) or [N, K] (transB = 1), output column n.</summary>
    Gemm,
    /// <summary><c>onnx.MatMul(x, W)</c> with constant 2-D W [K, N]: output's last axis.</summary>
    MatMulRight,
    /// <summary><c>onnx.MatMul(W, x)</c> with constant 2-D W [N, K]: output's second-to-last axis.</summary>
    MatMulLeft,
}

/// <summary>A layer whose output channels can absorb a per-channel scale (in its weight) and shift (in its bias).</summary>
internal sealed class Layer
{
    public required Operation Op { get; init; }
    public required LayerKind Kind { get; init; }
    public required int WeightIndex { get; init; }
    public required TensorType WeightType { get; init; }
    public required double[] Weight { get; init; }
    /// <summary>Output channels (M).</summary>
    public required int Channels { get; init; }
    /// <summary>Rank of the output, -1 when unknown.</summary>
    public required int OutputRank { get; init; }
    public long Group { get; init; } = 1;
    /// <summary>Conv/ConvTranspose bias or Gemm C (only when beta != 0); null when there is none.</summary>
    public double[]? Bias { get; init; }
    public TensorType? BiasType { get; init; }
    public double Beta { get; init; } = 1;

    /// <summary>The output axis that holds the channels, -1 when the rank is unknown.</summary>
    public int FeatureAxis => Kind switch
    {
        LayerKind.MatMulRight => OutputRank >= 1 ? OutputRank - 1 : -1,
        LayerKind.MatMulLeft => OutputRank >= 2 ? OutputRank - 2 : OutputRank == 1 ? 0 : -1,
        _ => 1,
    };

    public string Name => FloatData.NameOf(Op);
}

/// <summary>
/// Folding <c>y = s * layer(x) + t</c> (per output channel) into the layer's weight and bias, shared by
/// <c>--fold-bn</c> and <c>--fuse-conv-add-mul</c>:
/// <code>
/// Conv / ConvTranspose:  W'[.. m ..] = W[.. m ..] * s[m]        b'[m] = b[m] * s[m] + t[m]   (b = 0 when absent)
/// Gemm:                  B' columns n scaled by s[n]            C' = beta * C * s + t, beta' = 1
/// MatMul(x, W) / (W, x): W' columns / rows scaled by s          then Add(t) (MatMul has no bias)
/// </code>
/// The weight and bias constants are new (a constant shared by another op is never changed); the fused op is
/// created in place of the layer, takes over the result type, uses and <c>mo.outputs</c> name of the op it
/// absorbs, and is located at <c>fused[layer, absorbed]</c> (a MatMul's Add at the absorbed op's location; a copy of
/// a layer that stays, at <c>fused[absorbed, layer]</c>).
/// </summary>
internal static class LayerFolding
{
    public static bool IsLayer(Operation op) => op.Name is "onnx.Conv" or "onnx.ConvTranspose" or "onnx.Gemm" or "onnx.MatMul";

    /// <summary>The layer's weight, bias and channel layout, or null with the reason it cannot absorb a scale.</summary>
    public static Layer? Analyze(Operation op, MirModule module, out string reason)
    {
        reason = "";
        if (op.Results.Count != 1)
        {
            reason = $"has {op.Results.Count} results";
            return null;
        }
        return op.Name switch
        {
            "onnx.Conv" or "onnx.ConvTranspose" => AnalyzeConv(op, module, out reason),
            "onnx.Gemm" => AnalyzeGemm(op, module, out reason),
            "onnx.MatMul" => AnalyzeMatMul(op, module, out reason),
            _ => Fail($"{op.Name} is not a Conv, ConvTranspose, Gemm or MatMul", out reason),
        };
    }

    private static Layer? Fail(string why, out string reason)
    {
        reason = why;
        return null;
    }

    private static bool HasOperand(Operation op, int index) => op.OperandCount > index && op.GetOperand(index).Type != ElementType.None;

    private static Layer? AnalyzeConv(Operation op, MirModule module, out string reason)
    {
        bool transpose = op.Name == "onnx.ConvTranspose";
        if (op.OperandCount is < 2 or > 3) return Fail($"has {op.OperandCount} operands", out reason);
        if (FloatData.TryRead(op.GetOperand(1), module, "weight", out var wt, out var why) is not { } w) return Fail(why!, out reason);
        var shape = wt!.Type.Shape!;
        if (shape.Count < 3) return Fail($"weight {wt.Type} has rank {shape.Count}, below 3", out reason);
        long group = op.GetInt("group") ?? 1;
        if (group < 1) return Fail($"group = {group}", out reason);
        long channels;
        if (transpose)
        {
            if (shape[0] % group != 0) return Fail($"weight {wt.Type}: {shape[0]} input channels do not split into group = {group}", out reason);
            channels = shape[1] * group;
        }
        else
        {
            if (shape[0] % group != 0) return Fail($"weight {wt.Type}: {shape[0]} output channels do not split into group = {group}", out reason);
            channels = shape[0];
        }
        double[]? bias = null;
        TensorType? biasType = null;
        if (HasOperand(op, 2))
        {
            if (FloatData.TryRead(op.GetOperand(2), module, "bias", out var bt, out why) is not { } b) return Fail(why!, out reason);
            if (b.Length != channels) return Fail($"bias {bt!.Type} does not have {channels} elements", out reason);
            bias = b;
            biasType = bt!.Type;
        }
        reason = "";
        return new Layer
        {
            Op = op, Kind = transpose ? LayerKind.ConvTranspose : LayerKind.Conv, WeightIndex = 1, WeightType = wt.Type, Weight = w,
            Channels = checked((int)channels), OutputRank = shape.Count, Group = group, Bias = bias, BiasType = biasType,
        };
    }

    private static Layer? AnalyzeGemm(Operation op, MirModule module, out string reason)
    {
        if (op.OperandCount is < 2 or > 3) return Fail($"has {op.OperandCount} operands", out reason);
        if (FloatData.TryRead(op.GetOperand(1), module, "weight B", out var bt, out var why) is not { } b) return Fail(why!, out reason);
        if (bt!.Type.Rank != 2) return Fail($"weight B {bt.Type} is not 2-D", out reason);
        bool transB = (op.GetInt("transB") ?? 0) != 0;
        long n = transB ? bt.Type.Shape![0] : bt.Type.Shape![1];
        double beta = op.GetFloat("beta") ?? 1.0;
        double[]? c = null;
        TensorType? ct = null;
        if (HasOperand(op, 2) && beta != 0)
        {
            if (FloatData.TryRead(op.GetOperand(2), module, "C", out var cTensor, out why) is not { } cv) return Fail(why!, out reason);
            var cs = cTensor!.Type.Shape!;
            if (cs.Count > 2 || (cs.Count >= 1 && cs[^1] != 1 && cs[^1] != n))
                return Fail($"C {cTensor.Type} does not broadcast to the {n} output columns", out reason);
            c = cv;
            ct = cTensor.Type;
        }
        reason = "";
        return new Layer
        {
            Op = op, Kind = LayerKind.Gemm, WeightIndex = 1, WeightType = bt.Type, Weight = b, Channels = checked((int)n),
            OutputRank = 2, Bias = c, BiasType = ct, Beta = beta,
        };
    }

    private static Layer? AnalyzeMatMul(Operation op, MirModule module, out string reason)
    {
        if (op.OperandCount != 2) return Fail($"has {op.OperandCount} operands", out reason);
        int index = Constants.IsConstant(op.GetOperand(1)) ? 1 : Constants.IsConstant(op.GetOperand(0)) ? 0 : -1;
        if (index < 0) return Fail("MatMul weight not constant (neither input is)", out reason);
        if (FloatData.TryRead(op.GetOperand(index), module, "MatMul weight", out var wt, out var why) is not { } w) return Fail(why!, out reason);
        if (wt!.Type.Rank != 2) return Fail($"MatMul weight {wt.Type} is not 2-D", out reason);
        // With a 2-D weight, the output has the other input's rank (a 1-D input gives a 1-D output).
        int rank = op.Result.Type is TensorType { IsRanked: true } rt ? rt.Rank
            : op.GetOperand(1 - index).Type is TensorType { IsRanked: true } xt ? xt.Rank : -1;
        reason = "";
        return new Layer
        {
            Op = op, Kind = index == 1 ? LayerKind.MatMulRight : LayerKind.MatMulLeft, WeightIndex = index, WeightType = wt.Type, Weight = w,
            Channels = checked((int)(index == 1 ? wt.Type.Shape![1] : wt.Type.Shape![0])), OutputRank = rank,
        };
    }

    /// <summary>The first user of the layer's output that is not one of <paramref name="consumers"/> (a return counts).</summary>
    public static Operation? OtherUser(Layer layer, IReadOnlyCollection<Operation> consumers) =>
        layer.Op.Result.Users.FirstOrDefault(u => !consumers.Contains(u));

    /// <summary>
    /// Replaces <c>affine(layer(x))</c>, computed by <paramref name="consumers"/> (all reading the layer's output
    /// and computing the same map), by one fused layer; returns it. The consumers are erased, the layer too when
    /// nothing else reads it (else it stays, and the fused op is a copy).
    /// </summary>
    public static Operation Fold(Layer layer, ChannelAffine affine, IReadOnlyList<Operation> consumers, MirModule module)
    {
        if (affine.Channels != layer.Channels) throw new ArgumentException($"{affine.Channels} channels for a layer with {layer.Channels}");
        var op = layer.Op;
        var first = consumers[0];
        var absorbed = consumers.Select(c => c.Location).ToArray();
        // A copy of a layer that stays (its output has other readers) is named after what it absorbed first, so
        // the two do not share a name (ONNX node names are unique).
        bool copy = OtherUser(layer, consumers) is not null;
        var location = copy ? Location.Fuse([.. absorbed, op.Location], null) : Location.Fuse([op.Location, .. absorbed], null);
        var builder = OpBuilder.Before(op);
        var s = affine.Scale;
        var t = affine.Shift;
        int m = layer.Channels;

        // Weight (kept as it is when nothing scales it: a pure shift only changes the bias).
        var operands = op.Operands.ToList();
        if (s.Any(v => v != 1))
        {
            var weightOp = Constants.DefiningConstant(op.GetOperand(layer.WeightIndex))!;
            var weightLoc = Location.Fuse([weightOp.Location, .. absorbed], null);
            var weight = ScaleWeight(layer, s);
            operands[layer.WeightIndex] = Constants.Create(builder, module, layer.WeightType, ElementCodec.EncodeFloats(weight, layer.WeightType.Element),
                weightLoc, BlobHint(weightOp, layer.Name + ".weight"));
        }

        var attrs = op.Attributes.ToDictionary(a => a.Name, a => a.Value);
        var resultType = first.Result.Type;
        if (first.GetAttr("mo.outputs") is { } names) attrs["mo.outputs"] = names;

        // Bias.
        Value? biasValue = null;
        switch (layer.Kind)
        {
            case LayerKind.Conv or LayerKind.ConvTranspose:
                if (layer.Bias is { } b || affine.HasShift)
                {
                    var bias = new double[m];
                    for (int c = 0; c < m; c++) bias[c] = (layer.Bias is { } old ? old[c] * s[c] : 0) + t[c];
                    var type = layer.BiasType ?? new TensorType(layer.WeightType.Element, [m]);
                    biasValue = CreateBias(builder, module, op, 2, type, bias, absorbed, layer.Name);
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
                    biasValue = CreateBias(builder, module, op, 2, type, c1, absorbed, layer.Name);
                    attrs["beta"] = FloatAttr.F32(1);
                }
                else if (affine.HasShift)
                {
                    biasValue = CreateBias(builder, module, op, 2, new TensorType(layer.WeightType.Element, [m]), t, absorbed, layer.Name);
                    attrs["beta"] = FloatAttr.F32(1);
                }
                break;
        }
        if (biasValue is not null)
        {
            if (operands.Count > 2) operands[2] = biasValue;
            else operands.Add(biasValue);
        }

        Operation fused;
        if (layer.Kind is LayerKind.MatMulRight or LayerKind.MatMulLeft && affine.HasShift)
        {
            // MatMul has no bias: the shift becomes an Add after it, shaped to broadcast along the channel axis.
            var matmulAttrs = op.Attributes.ToList();
            var matmul = builder.Create(op.Name, operands, [op.Result.Type], matmulAttrs, location);
            var shiftType = new TensorType(layer.WeightType.Element, layer.FeatureAxis == layer.OutputRank - 1 ? [m] : [m, 1]);
            var shift = CreateBias(builder, module, op, -1, shiftType, t, absorbed, layer.Name);
            var addAttrs = first.GetAttr("mo.outputs") is { } n ? new[] { new NamedAttr("mo.outputs", n) } : [];
            // The Add is the absorbed op's shift: it keeps that op's name (the MatMul keeps the layer's).
            fused = builder.Create("onnx.Add", [matmul.Result, shift], [resultType], addAttrs, Location.Fuse(absorbed, null));
        }
        else
        {
            fused = builder.Create(op.Name, operands, [resultType], attrs.Select(kv => new NamedAttr(kv.Key, kv.Value)), location);
        }

        foreach (var consumer in consumers)
        {
            consumer.Result.ReplaceAllUsesWith(fused.Result);
            consumer.Erase();
        }
        if (op.IsUnused) op.Erase();
        return fused;
    }

    private static Value CreateBias(OpBuilder builder, MirModule module, Operation op, int index, TensorType type, double[] values,
        Location[] absorbed, string layerName)
    {
        var oldOp = index >= 0 && index < op.OperandCount ? Constants.DefiningConstant(op.GetOperand(index)) : null;
        var baseLoc = oldOp?.Location is { } l && l is not UnknownLoc ? l : Location.Named(layerName + ".bias");
        var loc = Location.Fuse([baseLoc, .. absorbed], null);
        return Constants.Create(builder, module, type, ElementCodec.EncodeFloats(values, type.Element), loc,
            oldOp is not null ? BlobHint(oldOp, layerName + ".bias") : layerName + ".bias");
    }

    /// <summary>A blob key for a rewritten constant: the old blob's key (made unique), else its name.</summary>
    internal static string BlobHint(Operation constantOp, string fallback) =>
        constantOp.GetAttr("value") is DenseResourceAttr r ? r.Key : constantOp.Location.FirstName ?? fallback;

    /// <summary>The weight with output channel m scaled by s[m], in the layer's layout.</summary>
    public static double[] ScaleWeight(Layer layer, double[] s)
    {
        var w = layer.Weight; // read for this fold alone (FloatData.Read makes a fresh array): scaled in place
        var shape = layer.WeightType.Shape!;
        switch (layer.Kind)
        {
            case LayerKind.Conv:
            {
                int inner = w.Length / layer.Channels;
                for (int m = 0; m < layer.Channels; m++)
                    for (int r = 0; r < inner; r++) w[m * inner + r] *= s[m];
                break;
            }
            case LayerKind.ConvTranspose:
            {
                long cin = shape[0], perGroupOut = shape[1], inner = w.Length / (cin * perGroupOut), cinPerGroup = cin / layer.Group;
                for (long c = 0; c < cin; c++)
                    for (long j = 0; j < perGroupOut; j++)
                    {
                        double factor = s[(c / cinPerGroup) * perGroupOut + j];
                        long start = (c * perGroupOut + j) * inner;
                        for (long r = 0; r < inner; r++) w[start + r] *= factor;
                    }
                break;
            }
            case LayerKind.Gemm when (layer.Op.GetInt("transB") ?? 0) != 0:
            case LayerKind.MatMulLeft:
                ScaleRows(w, shape, s);
                break;
            case LayerKind.Gemm:
            case LayerKind.MatMulRight:
                ScaleColumns(w, shape, s);
                break;
        }
        return w;
    }

    private static void ScaleRows(double[] w, IReadOnlyList<long> shape, double[] s)
    {
        long cols = shape[1];
        for (long r = 0; r < shape[0]; r++)
            for (long c = 0; c < cols; c++) w[r * cols + c] *= s[r];
    }

    private static void ScaleColumns(double[] w, IReadOnlyList<long> shape, double[] s)
    {
        long cols = shape[1];
        for (long r = 0; r < shape[0]; r++)
            for (long c = 0; c < cols; c++) w[r * cols + c] *= s[c];
    }
}
