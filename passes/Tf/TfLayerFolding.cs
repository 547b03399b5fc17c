using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// A layer a per-channel scale and shift can fold into, as the batch-norm transforms find it: <c>Conv2D</c>,
/// <c>DepthwiseConv2dNative</c> or <c>MatMul</c> with constant float weights, optionally followed by a bias
/// (<c>BiasAdd</c>, or <c>Add</c>/<c>AddV2</c> of a constant [C] vector). Output channel of a weight element:
/// Conv2D HWIO → the last axis (C = O); DepthwiseConv2dNative [H, W, In, Mult] → the last two axes flattened
/// (C = In·Mult); MatMul [In, Out] → the last axis, or with transpose_b [Out, In] → the first.
/// </summary>
internal sealed record TfLayer(Operation Op, ConstantTensor Weight, long Channels, bool ChannelLast, Operation? Bias, double[]? BiasValue)
{
    public const string LayerOps = "Conv2D|DepthwiseConv2dNative|MatMul";

    /// <summary>The output channel weight element <paramref name="index"/> feeds.</summary>
    public long ChannelOf(long index) => Op.OpType == "MatMul" && TfGraph.Bool(Op, "transpose_b", false)
        ? index / (Weight.ElementCount / Channels)
        : index % Channels;

    /// <summary>The node the scale and shift apply to (the bias, else the layer).</summary>
    public Operation Last => Bias ?? Op;

    /// <summary>
    /// The layer (and bias) producing <paramref name="h"/>, when a scale and shift can fold into it; else null and why.
    /// <paramref name="reader"/> is the one op that may read it.
    /// </summary>
    public static TfLayer? Analyze(Value h, Operation reader, FuncOp func, TfConstEval eval, out string why)
    {
        var outputs = TfGraph.OutputNodes(func);
        Operation? bias = null;
        double[]? biasValue = null;
        if (TfGraph.IsOp(h, "BiasAdd|Add|AddV2", out var add))
        {
            if (!TfGraph.IsOp(add.GetOperand(0), LayerOps, out _)) { why = $"its input {Describe(add)} does not add to a {LayerOps.Replace("|", ", ")}"; return null; }
            if (add.OperandCount != 2) { why = $"{Describe(add)} has {add.OperandCount} inputs"; return null; }
            if (SoleReaderProblem(add, reader, outputs) is { } p) { why = p; return null; }
            bias = add;
            h = add.GetOperand(0);
        }
        if (!TfGraph.IsOp(h, LayerOps, out var layer)) { why = $"its input is not a {LayerOps.Replace("|", ", ")} (or one with a bias)"; return null; }
        if (SoleReaderProblem(layer, bias ?? reader, outputs) is { } q) { why = q; return null; }
        if (layer.OperandCount != 2) { why = $"{Describe(layer)} has {layer.OperandCount} inputs"; return null; }
        if (eval.Evaluate(layer.GetOperand(1)) is not { Type: { Element.IsFloat: true, Shape: { } ws } } weight)
        { why = $"the weights of {Describe(layer)} are not a constant float tensor"; return null; }
        var format = TfGraph.Str(layer, "data_format", "NHWC");
        long channels;
        switch (layer.OpType)
        {
            case "Conv2D" when ws.Count == 4: channels = ws[3]; break;
            case "DepthwiseConv2dNative" when ws.Count == 4: channels = ws[2] * ws[3]; break;
            case "MatMul" when ws.Count == 2: channels = TfGraph.Bool(layer, "transpose_b", false) ? ws[0] : ws[1]; break;
            default: why = $"the weights of {Describe(layer)} have shape [{string.Join(",", ws)}]"; return null;
        }
        if (format is not ("NHWC" or "NCHW")) { why = $"{Describe(layer)} has data_format {format}"; return null; }
        bool channelLast = layer.OpType == "MatMul" || format == "NHWC";
        if (bias is not null)
        {
            if (bias.OpType == "BiasAdd" && TfGraph.Str(bias, "data_format", "NHWC") != (channelLast ? "NHWC" : "NCHW"))
            { why = $"{Describe(bias)} adds along another axis than {Describe(layer)}'s channels"; return null; }
            if (bias.OpType != "BiasAdd" && !channelLast) { why = $"{Describe(bias)} broadcasts over the last axis, not {Describe(layer)}'s NCHW channels"; return null; }
            biasValue = eval.Vector(bias.GetOperand(1), channels);
            if (biasValue is null) { why = $"the bias of {Describe(bias)} is not a constant float vector of {channels}"; return null; }
        }
        why = "";
        return new TfLayer(layer, weight, channels, channelLast, bias, biasValue);
    }

    /// <summary>Why <paramref name="op"/>'s output may not change (someone other than <paramref name="reader"/> reads it), or null.</summary>
    private static string? SoleReaderProblem(Operation op, Operation reader, HashSet<Operation> outputs)
    {
        if (op.Results.Count != 1) return $"{Describe(op)} has {op.Results.Count} outputs";
        if (outputs.Contains(op)) return $"{Describe(op)} is an output of the graph";
        if (op.Result.Users.Any(u => u != reader)) return $"{Describe(op)} also feeds {Describe(op.Result.Users.First(u => u != reader))}, which would see the folded values";
        if (TfGraph.HasControlInputs(op)) return $"{Describe(op)} has control inputs";
        return null;
    }

    /// <summary>
    /// Folds y = h · scale[c] + shift[c] into the layer: its weights scaled per output channel, the bias (when there is
    /// one) b·scale + shift, else a new <c>BiasAdd</c> of shift (<c>&lt;layer&gt;_bn_offset</c>) when there is a shift.
    /// <paramref name="replaced"/> (the BN or Mul) is replaced and erased, and the node now computing its value takes its
    /// name. Computed in double, rounded once to the weights' type.
    /// </summary>
    public void Fold(double[] scale, double[]? shift, Operation replaced, FuncOp func, MirModule module)
    {
        var replacedName = TfGraph.NodeName(replaced) ?? TfGraph.UniqueName(func, "folded");
        var oldWeight = Op.GetOperand(1);
        var w = Weight.ToFloats();
        var scaled = new double[w.Length];
        for (long i = 0; i < w.Length; i++) scaled[i] = w[i] * scale[ChannelOf(i)];
        var weightName = TfGraph.NodeOf(oldWeight, func) ?? replacedName + "/weights";
        var newWeight = TfGraph.CreateConst(OpBuilder.Before(Op), module, Weight.Type, ElementCodec.EncodeFloats(scaled, Weight.Type.Element), "mopt_folding_weights");
        Op.SetOperand(1, newWeight.Result);

        Operation final = Op;
        Value? oldBias = null;
        string? biasName = null;
        if (Bias is { } bias)
        {
            var b = new double[Channels];
            for (int c = 0; c < Channels; c++) b[c] = BiasValue![c] * scale[c] + (shift?[c] ?? 0);
            oldBias = bias.GetOperand(1);
            biasName = TfGraph.NodeOf(oldBias, func);
            var type = new TensorType(Weight.Type.Element, [Channels]);
            var newBias = TfGraph.CreateConst(OpBuilder.Before(bias), module, type, ElementCodec.EncodeFloats(b, type.Element), "mopt_folding_bias");
            bias.SetOperand(1, newBias.Result);
            final = bias;
        }
        else if (shift is not null)
        {
            var type = new TensorType(Weight.Type.Element, [Channels]);
            var builder = OpBuilder.Before(replaced);
            var offset = TfGraph.CreateConst(builder, module, type, ElementCodec.EncodeFloats(shift, type.Element), TfGraph.UniqueName(func, (TfGraph.NodeName(Op) ?? "layer") + "_bn_offset"));
            var attrs = new List<NamedAttr>();
            if (Op.GetAttr("T") is { } t) attrs.Add(new NamedAttr("T", t));
            if (Op.OpType != "MatMul" && Op.GetAttr("data_format") is { } df) attrs.Add(new NamedAttr("data_format", df));
            final = builder.Create("tf.BiasAdd", [Op.Result, offset.Result], [TfDialect.UnknownTensor], attrs, Location.Unknown);
            if (Op.GetAttr(TfGraph.DeviceAttr) is { } device) final.SetAttr(TfGraph.DeviceAttr, device);
        }

        var finalOldName = final == Op || final == Bias ? TfGraph.NodeName(final) : null;
        replaced.Result.ReplaceAllUsesWith(final.Result);
        var replacedInputs = replaced.Operands.ToList();
        replaced.Erase();
        final.Location = Location.Named(replacedName);
        TfGraph.EraseIfDead(replacedInputs, func, module);
        TfGraph.EraseIfDead([oldWeight], func, module);
        if (oldBias is not null) TfGraph.EraseIfDead([oldBias], func, module);
        newWeight.Location = Location.Named(TfGraph.UniqueName(func, weightName));
        if (final == Bias) ((OpResult)final.GetOperand(1)).Owner.Location = Location.Named(TfGraph.UniqueName(func, biasName ?? replacedName + "/bias"));
        // A ^dependency on the node that took the replaced one's name now waits for the same node under its new name.
        if (finalOldName is not null && finalOldName != replacedName)
            TfGraph.RenameControlInputs(func, new Dictionary<string, string> { [finalOldName] = replacedName });
    }

    public static string Describe(Operation op) => $"{op.OpType} '{TfGraph.NodeName(op) ?? "(unnamed)"}'";
}
