using System.Runtime.InteropServices;
using Mopt.Dialects.Onnx;
using Mopt.Ir;
using static Mopt.Passes.Conversion.OpLowering;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Caffe's BatchNorm, Scale and Bias; a BatchNorm whose only reader is a per-channel Scale becomes one BatchNormalization.
/// <code>
/// Before: %n = "caffe.BatchNorm"(%x, %mean, %var, %s) ; %y = "caffe.Scale"(%n, %gamma, %beta) {bias_term = true}
/// After:  %y = "onnx.BatchNormalization"(%x, %gamma, %beta, %mean', %var') {epsilon = 1.0e-05 : f32}
/// BatchNorm alone → BatchNormalization(x, ones, zeros, mean', var');  Scale → Mul (+ Add);  Bias → Add
/// </code>
/// BatchNorm (batch_norm_layer.cpp): mean' = mean·f and var' = var·f with f = 1/s for the scale-factor blob s (0 when
/// s is 0); eps defaults to 1e-5. use_global_stats defaults to true in the TEST phase (the layer's phase, else the
/// net's: a training snapshot imported as TRAIN has false); false means batch statistics, which a deploy net does not
/// compute: an error. The Scale is folded in when it has one bottom (the BatchNorm's top, read by nothing else), axis
/// 1, num_axes 1 and constant blobs of the channel count; its blobs become the BatchNormalization's scale and bias.
/// Scale and Bias (scale_layer.cpp, bias_layer.cpp): the factor is the second bottom or the first blob, the bias
/// the next blob; its shape is the input's axes axis..axis+n (num_axes n, -1 = to the end; two bottoms: the second's
/// rank) and it is reshaped with trailing 1s so that ONNX's broadcasting puts it on those axes.
/// </summary>
internal static class CaffeNormLowerings
{
    public static void Register(Dictionary<string, Lowering> table)
    {
        table["BatchNorm"] = BatchNorm;
        table["Scale"] = Scale;
        table["Bias"] = Bias;
    }

    private static IReadOnlyList<Value> BatchNorm(OpLowering l)
    {
        int blobs = CaffeParams.BlobCount(l);
        if (l.InputCount - blobs != 1 || blobs != 3) throw Blocked("a BatchNorm takes one bottom and 3 blobs (mean, variance, scale factor)");
        if (!UsesGlobalStats(l))
            throw Blocked($"use_global_stats is false{(CaffeParams.Has(l, "use_global_stats") ? "" : " (its default in the TRAIN phase)")}: " +
                "Caffe normalizes with the batch's own statistics, which a deployed net does not compute");
        var x = l.Input(0);
        var element = ElementOf(x);
        var mean = CaffeParams.Blob(l, 0, blobs);
        var variance = CaffeParams.Blob(l, 1, blobs);
        var factor = Constants.TryGet(CaffeParams.Blob(l, 2, blobs), l.Module) ?? throw Blocked("its scale-factor blob is not a constant");
        if (factor.Type.ElementCount != 1) throw Blocked("its scale-factor blob does not hold one value");
        double s = factor.ToFloats()[0];
        float f = s == 0 ? 0f : (float)(1 / s);
        if (TypeOf(mean).Shape is not [var channels]) throw Blocked($"its mean blob has type {mean.Type}, not [C]");
        if (RankOf(x) is int rank && rank < 2) throw Blocked($"its input has rank {rank}; the channels are axis 1");
        if (TypeOf(x).Shape is { Count: >= 2 } xs && xs[1] >= 0 && xs[1] != channels) throw Blocked($"its input has {xs[1]} channels, its mean blob {channels}");
        var meanScaled = Scaled(l, mean, f, "mean");
        var varScaled = Scaled(l, variance, f, "variance");

        Value gamma, beta;
        if (FusableScale(l.Op, channels, element) is { } scale)
        {
            gamma = CopyConstant(l, scale.GetOperand(1));
            beta = (int)scale.ReadInt(CaffeParamsBlobs, 0) == 2 ? CopyConstant(l, scale.GetOperand(2)) : Filled(l, element, channels, 0, "beta");
        }
        else
        {
            gamma = Filled(l, element, channels, 1, "gamma");
            beta = Filled(l, element, channels, 0, "beta");
        }
        var eps = CaffeParams.Float(l, "eps", 1e-5f);
        return [l.Emit("BatchNormalization", [x, gamma, beta, meanScaled, varScaled], [Attr("epsilon", eps)])];
    }

    private const string CaffeParamsBlobs = "caffe.blobs";

    /// <summary>Caffe's use_global_stats: as set, else true in the TEST phase (the layer's caffe.phase, else the net's).</summary>
    private static bool UsesGlobalStats(OpLowering l)
    {
        if (CaffeParams.Has(l, "use_global_stats")) return CaffeParams.Bool(l, "use_global_stats", true);
        var phase = l.Op.ReadString("caffe.phase") ?? l.Module.Op.ReadString("caffe.phase") ?? "TEST";
        return phase != "TRAIN";
    }

    /// <summary>
    /// The Scale that the BatchNorm <paramref name="bn"/> absorbs, or null: its only reader, one bottom, axis 1 (or
    /// -rank + 1), num_axes 1, blobs constant [C] of the BatchNorm's element type.
    /// </summary>
    private static Operation? FusableScale(Operation bn, long channels, ElementType element)
    {
        if (bn.Results.Count != 1 || bn.Result.Uses.Count != 1) return null;
        var use = bn.Result.Uses[0];
        var scale = use.Owner;
        if (scale.Name != "caffe.Scale" || use.Index != 0) return null;
        int blobs = (int)scale.ReadInt(CaffeParamsBlobs, 0);
        if (scale.OperandCount - blobs != 1 || blobs < 1) return null;
        bool biasTerm = scale.GetAttr("bias_term") is BoolAttr { Value: true } || scale.GetAttr("bias_term") is IntegerAttr { Value: not 0 };
        if (blobs != (biasTerm ? 2 : 1)) return null;
        int? rank = RankOf(bn.GetOperand(0));
        long axis = scale.GetAttr("axis") is IntegerAttr a ? a.Value : 1;
        if (axis < 0 && rank is int r) axis += r;
        if (axis != 1) return null;
        if (scale.GetAttr("num_axes") is IntegerAttr { Value: not 1 }) return null;
        for (int i = 1; i <= blobs; i++)
        {
            var blob = scale.GetOperand(i);
            if (Constants.DefiningConstant(blob) is null || blob.Type is not TensorType { Shape: [var c] } t || c != channels || t.Element != element) return null;
        }
        return scale;
    }

    /// <summary>True when <paramref name="x"/> is a BatchNormalization that absorbed this Scale's blobs (the very attributes).</summary>
    private static bool AbsorbedBy(OpLowering l, Value x)
    {
        // The blob count read once (this runs for every Scale layer).
        if (x is not OpResult { Owner: { Name: "onnx.BatchNormalization" } bn }) return false;
        int blobs = CaffeParams.BlobCount(l);
        if (l.InputCount - blobs != 1) return false;
        for (int i = 0; i < blobs; i++)
        {
            var mine = Constants.DefiningConstant(CaffeParams.Blob(l, i, blobs));
            var theirs = Constants.DefiningConstant(bn.GetOperand(1 + i));
            if (mine is null || theirs is null || !ReferenceEquals(Constants.ValueAttribute(mine), Constants.ValueAttribute(theirs))) return false;
        }
        return true;
    }

    private static IReadOnlyList<Value> Scale(OpLowering l)
    {
        var x = l.Input(0);
        if (AbsorbedBy(l, x)) return [x];
        int bottoms = CaffeParams.BottomCount(l);
        bool biasTerm = CaffeParams.Bool(l, "bias_term", false);
        int blobs = CaffeParams.BlobCount(l);
        int expected = (bottoms > 1 ? 0 : 1) + (biasTerm ? 1 : 0);
        if (bottoms > 2 || blobs != expected) throw Blocked($"it has {bottoms} bottoms and {blobs} blobs; Scale takes one bottom and the scale blob, or two bottoms, and a bias blob with bias_term");
        var factor = bottoms > 1 ? l.Input(1) : CaffeParams.Blob(l, 0);
        var y = l.Emit("Mul", [x, Broadcast(l, x, factor, "scale")]);
        if (biasTerm) y = l.Emit("Add", [y, Broadcast(l, x, CaffeParams.Blob(l, blobs - 1), "bias")]);
        return [y];
    }

    private static IReadOnlyList<Value> Bias(OpLowering l)
    {
        var x = l.Input(0);
        int bottoms = CaffeParams.BottomCount(l);
        int blobs = CaffeParams.BlobCount(l);
        if (bottoms > 2 || blobs != (bottoms > 1 ? 0 : 1)) throw Blocked($"it has {bottoms} bottoms and {blobs} blobs; Bias takes one bottom and the bias blob, or two bottoms");
        var bias = bottoms > 1 ? l.Input(1) : CaffeParams.Blob(l, 0);
        return [l.Emit("Add", [x, Broadcast(l, x, bias, "bias")])];
    }

    /// <summary>
    /// Caffe's factor <paramref name="b"/> laid on x's axes axis..axis+rank(b): b with trailing 1s up to x's rank, so
    /// that ONNX's broadcasting (from the last axis) puts it there; its shape must be those axes of x.
    /// </summary>
    private static Value Broadcast(OpLowering l, Value x, Value b, string what)
    {
        int rank = l.Rank(x, "its input");
        var bShape = TypeOf(b).Shape ?? throw Blocked($"its {what} has an unknown shape");
        long axis = CaffeParams.Int(l, "axis", 1);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis > rank) throw Blocked($"axis {CaffeParams.Int(l, "axis", 1)} is outside its input's rank {rank}");
        if (CaffeParams.BottomCount(l) == 1 && CaffeParams.Int(l, "num_axes", 1) is var n && n >= 0 && n != bShape.Count)
            throw Blocked($"its {what} blob has rank {bShape.Count}, num_axes is {n}");
        long trailing = rank - axis - bShape.Count;
        if (trailing < 0) throw Blocked($"its {what} {Text(bShape)} does not fit its input's rank {rank} from axis {axis}");
        if (TypeOf(x).Shape is { } xs)
            for (int i = 0; i < bShape.Count; i++)
                if (xs[(int)axis + i] >= 0 && bShape[i] >= 0 && xs[(int)axis + i] != bShape[i])
                    throw Blocked($"its {what} {Text(bShape)} does not match its input's axes from {axis}: {Text(xs.Skip((int)axis).Take(bShape.Count))}");
        if (trailing == 0) return b;
        if (Constants.IsConstant(b) && bShape.All(d => d >= 0))
            return Reshaped(l, b, [.. bShape, .. Enumerable.Repeat(1L, (int)trailing)]);
        var axes = Enumerable.Range(bShape.Count, (int)trailing).Select(i => (long)i).ToArray();
        return l.Emit("Unsqueeze", [b, l.ConstI64(axes, what + "_axes")]);
    }

    /// <summary>The constant <paramref name="c"/> with a new shape of the same elements: the same bytes (the same blob), no copy.</summary>
    public static Value Reshaped(OpLowering l, Value c, long[] shape)
    {
        var op = Constants.DefiningConstant(c) ?? throw Blocked("a blob is not a constant");
        var type = new TensorType(TypeOf(c).Element, shape);
        Attr value = Constants.ValueAttribute(op) switch
        {
            DenseResourceAttr r => r with { Type = type },
            DenseElementsAttr d => d with { Type = type },
            var other => throw Blocked($"a blob holds {other}, not a tensor"),
        };
        return l.ConstAttrAfter(op, value, type);
    }

    /// <summary>A new onnx.Constant after <paramref name="c"/>'s holding its very value attribute (the same blob).</summary>
    private static Value CopyConstant(OpLowering l, Value c)
    {
        var op = Constants.DefiningConstant(c)!;
        return l.ConstAttrAfter(op, Constants.ValueAttribute(op)!, TypeOf(c));
    }

    /// <summary><paramref name="blob"/> times <paramref name="factor"/> (in f32, as Caffe scales), or the blob itself when the factor is 1.</summary>
    private static Value Scaled(OpLowering l, Value blob, float factor, string hint)
    {
        if (factor == 1f) return blob;
        var c = Constants.TryGet(blob, l.Module) ?? throw Blocked($"its {hint} blob is not a constant");
        if (c.Type.Element != ElementType.F32) throw Blocked($"its {hint} blob is {c.Type.Element}, not f32");
        var values = c.ToFloats();
        for (int i = 0; i < values.Length; i++) values[i] *= factor;
        return l.Const(c.Type, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), hint);
    }

    private static Value Filled(OpLowering l, ElementType element, long count, float value, string hint)
    {
        if (element != ElementType.F32) throw Blocked($"its input is {element}, not f32");
        var values = Enumerable.Repeat(value, (int)count).ToArray();
        return l.Const(new TensorType(element, [count]), MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), hint);
    }
}
