using Mopt.Dialects.Caffe;
using Mopt.Dialects.Mo;
using Mopt.Ir;
using Mopt.Passes.BatchNorm;

namespace Mopt.Passes.Caffe;

/// <summary>
/// <c>--caffe-merge-bn</c>: a Caffe BatchNorm (and the Scale after it, if any) disappears into the Convolution,
/// Deconvolution or InnerProduct before it, in the caffe dialect, so the net written back has neither layer.
/// <code>
/// Before: %c = "caffe.Convolution"(%x, %w) {mo.outputs = ["conv1"]} loc("conv1")
///         %n = "caffe.BatchNorm"(%c, %mean, %var, %s) loc("bn1") ; %y = "caffe.Scale"(%n, %gamma, %beta) {mo.outputs = ["bn1"]} loc("scale1")
/// After:  %y = "caffe.Convolution"(%x, %w', %b') {bias_term = true, caffe.blobs = 2, mo.outputs = ["bn1"]} loc("conv1")
/// </code>
/// With f = 0 if s = 0 else 1/s (BatchNorm's scale-factor blob, as Caffe reads it), a[c] = γ[c] / √(var[c]·f + eps)
/// per output channel c (γ = 1, β = 0 without a Scale; eps = the BatchNorm's, default 1e-5), in double, rounded once:
/// W'[c] = W[c]·a[c] and b'[c] = (b[c] − mean[c]·f)·a[c] + β[c] (b = 0 for a layer without bias, which gets one and
/// <c>bias_term: true</c>). The output channel of a weight element is axis 0 of a Convolution's [O, I/g, k...],
/// axis 1 of a Deconvolution's [I, O/g, k...] within its group (channel g·O/g + o), row N of an InnerProduct's [N, K]
/// or column N with <c>transpose: true</c>. The layer keeps its name (location) and takes the top of the last layer
/// merged into it, so the rest of the net reads the same blob names.
/// Exact conditions (otherwise skipped with the reason): the BatchNorm reads the layer's only result as its only
/// bottom, and is the only reader of it (not a net output); the layer has one bottom, <c>axis</c> 1 (the default) and
/// constant float blobs; BatchNorm has its three constant blobs of C = the layer's output channels (the scale factor one
/// value) and does not set <c>use_global_stats: false</c> (nor leave it unset in a TRAIN-phase net, where Caffe would
/// use the batch's statistics). The Scale merges too when it is the BatchNorm's only reader, has one bottom,
/// <c>axis</c> 1 and <c>num_axes</c> 1 (the defaults) and constant blobs of [C]; otherwise the BatchNorm merges alone
/// and the Scale stays (reading the layer). New weights are new constants; the old ones, left unused, are erased with
/// the BatchNorm and Scale. Statistics: pairs merged (with a Scale or not).
/// </summary>
public sealed class MergeBatchNorm : Pass
{
    public override string Name => "caffe-merge-bn";
    public override string Summary => "Caffe: merge BatchNorm (and the Scale after it) into the Convolution, Deconvolution or InnerProduct before it";

    private const string BatchNormOp = CaffeDialect.Name + ".BatchNorm";
    private const string ScaleOp = CaffeDialect.Name + ".Scale";
    private static readonly string[] LayerOps = [CaffeDialect.Name + ".Convolution", CaffeDialect.Name + ".Deconvolution", CaffeDialect.Name + ".InnerProduct"];

    public override void Run(MirModule module, PassContext context)
    {
        if (!module.AnyOperation(op => op.Name == BatchNormOp))
        {
            context.MarkAllPreserved(); // deploy runs it on every module: most have nothing to merge
            return;
        }
        var func = module.MainFunction;
        context.Count("pairs merged", 0);
        bool trainNet = (module.Op.GetAttr("caffe.phase") as StringAttr)?.Value == "TRAIN";
        // Under a pass manager its sweep removes and counts the replaced weights' blobs (DeadWeights.RemoveReleased).
        var rewriter = new PatternRewriter(module, context.Dialects) { NotesReleasedBlobs = !context.SweepFollows };
        foreach (var bn in func.Body.Operations.Where(op => op.Name == BatchNormOp).ToList())
        {
            if (bn.Parent is null) continue;
            if (Plan(bn, module, trainNet, context, out var why) is not { } plan) { context.Skip(bn, why); continue; }
            Merge(plan, module, rewriter, context);
        }
        DeadWeights.RemoveReleased(rewriter, context);
    }

    /// <summary>The layer, BatchNorm and (optional) Scale to merge, with the values read.</summary>
    private sealed record Merging(Operation Layer, Operation BatchNorm, Operation? Scale, ConstantTensor Weight, double[]? Bias,
        long Channels, WeightChannels Axes, double[] Mean, double[] Variance, double Eps, double[] Gamma, double[] Beta);

    private static Merging? Plan(Operation bn, MirModule module, bool trainNet, PassContext context, out string why)
    {
        if (bn.GetOperand(0) is not OpResult { Owner: var layer } || !LayerOps.Contains(layer.Name))
        { why = "its bottom is not the top of a Convolution, Deconvolution or InnerProduct"; return null; }
        var layerName = $"{layer.Name[(CaffeDialect.Name.Length + 1)..]} '{layer.Location.FirstName ?? "unnamed"}'";
        if (Blobs(bn) != 3 || bn.OperandCount != 4) { why = "it does not have one bottom and its three blobs"; return null; }
        if (bn.Results.Count != 1) { why = $"it has {bn.Results.Count} tops"; return null; }
        if (layer.Results.Count != 1 || layer.OperandCount - Blobs(layer) != 1) { why = $"{layerName} has more than one bottom or top"; return null; }
        if (layer.Result.Users.Distinct().Count() != 1 || layer.Result.Users.Count() != 1)
        { why = $"the top of {layerName} is also read by {Other(layer.Result, bn)}, which would see the merged values"; return null; }
        if (bn.GetAttr("use_global_stats") is BoolAttr { Value: false })
        { why = "use_global_stats is false: Caffe normalizes with the batch's statistics, not the stored ones"; return null; }
        if (bn.GetAttr("use_global_stats") is null && trainNet)
        { why = "the net is in the TRAIN phase and use_global_stats is unset: Caffe normalizes with the batch's statistics"; return null; }
        if (layer.ReadInt("axis", 1) != 1) { why = $"{layerName} has axis {layer.ReadInt("axis", 1)}: its channels are not BatchNorm's axis 1"; return null; }

        int blobs = Blobs(layer);
        if (blobs is < 1 or > 2) { why = $"{layerName} has {blobs} blobs"; return null; }
        if (Float(layer.GetOperand(1), module) is not { Type.Shape: { } ws } weight) { why = $"{layerName}'s weight is not a constant float blob"; return null; }
        long channels;
        WeightChannels axes;
        switch (layer.Name[(CaffeDialect.Name.Length + 1)..])
        {
            case "Convolution" when ws.Count >= 2 && ws[0] > 0:
            {
                channels = ws[0];
                axes = new WeightChannels(OutAxis: 0, InAxis: 1, Group: 1);
                break;
            }
            case "Deconvolution" when ws.Count >= 2 && ws[1] > 0:
            {
                long group = layer.ReadInt("group", 1), perGroup = ws[1];
                if (group < 1 || ws[0] % group != 0) { why = $"{layerName}'s group {group} does not divide its {ws[0]} input channels"; return null; }
                channels = perGroup * group;
                axes = new WeightChannels(OutAxis: 1, InAxis: 0, Group: group);
                break;
            }
            case "InnerProduct" when ws.Count == 2:
            {
                bool transpose = layer.GetAttr("transpose") is BoolAttr { Value: true };
                long rows = ws[0], cols = ws[1];
                channels = transpose ? cols : rows;
                axes = transpose ? new WeightChannels(OutAxis: 1, InAxis: 0, Group: 1) : new WeightChannels(OutAxis: 0, InAxis: 1, Group: 1);
                break;
            }
            default:
                why = $"{layerName}'s weight has shape [{string.Join("x", ws)}]";
                return null;
        }
        double[]? bias = null;
        if (blobs == 2)
        {
            if (Vector(layer.GetOperand(2), channels, module) is not { } b) { why = $"{layerName}'s bias is not a constant float blob of {channels}"; return null; }
            bias = b;
        }

        var mean = Vector(bn.GetOperand(1), channels, module);
        var variance = Vector(bn.GetOperand(2), channels, module);
        var factor = Vector(bn.GetOperand(3), 1, module);
        if (mean is null || variance is null || factor is null)
        { why = $"its blobs are not constant float blobs of {channels} (the output channels of {layerName}), {channels} and 1"; return null; }
        double f = factor[0] == 0 ? 0 : 1 / factor[0];
        for (int c = 0; c < channels; c++) { mean[c] *= f; variance[c] *= f; }
        double eps = bn.ReadFloat("eps", 1e-5);

        var gamma = Enumerable.Repeat(1.0, (int)channels).ToArray();
        var beta = new double[channels];
        Operation? scale = null;
        if (bn.Result.Users.Distinct().ToList() is [{ Name: ScaleOp } user])
        {
            if (ScaleProblem(user, bn, channels, module, out var g, out var bt) is { } problem) context.Skip(user, $"not merged with {Describe(bn)}: {problem}");
            else { scale = user; gamma = g!; beta = bt ?? beta; }
        }
        why = "";
        return new Merging(layer, bn, scale, weight, bias, channels, axes, mean, variance, eps, gamma, beta);
    }

    /// <summary>Why the Scale after the BatchNorm cannot merge with it, or null (and its γ, β).</summary>
    private static string? ScaleProblem(Operation scale, Operation bn, long channels, MirModule module, out double[]? gamma, out double[]? beta)
    {
        gamma = beta = null;
        int blobs = Blobs(scale);
        if (scale.OperandCount - blobs != 1 || scale.Results.Count != 1) return "it does not have one bottom and one top (a second bottom is the scale)";
        if (scale.ReadInt("axis", 1) != 1) return $"axis {scale.ReadInt("axis", 1)} is not the channels";
        if (scale.ReadInt("num_axes", 1) != 1) return $"num_axes {scale.ReadInt("num_axes", 1)} is not the channels alone";
        if (blobs is < 1 or > 2) return $"it has {blobs} blobs";
        gamma = Vector(scale.GetOperand(1), channels, module);
        if (gamma is null) return $"its scale is not a constant float blob of {channels}";
        if (blobs == 2 && (beta = Vector(scale.GetOperand(2), channels, module)) is null) return $"its bias is not a constant float blob of {channels}";
        return null;
    }

    private static void Merge(Merging m, MirModule module, PatternRewriter rewriter, PassContext context)
    {
        var layer = m.Layer;
        var a = new double[m.Channels];
        var bias = new double[m.Channels];
        for (int c = 0; c < m.Channels; c++)
        {
            a[c] = m.Gamma[c] / Math.Sqrt(m.Variance[c] + m.Eps);
            bias[c] = ((m.Bias?[c] ?? 0) - m.Mean[c]) * a[c] + m.Beta[c];
        }
        // The ONNX fold's scaling: float32 in and out in one pass, channels found by the blob's layout.
        var scaled = LayerFolding.ScaleOutputChannels(m.Weight, m.Axes.OutAxis, m.Axes.InAxis, m.Channels, m.Axes.Group, a, module);

        var name = layer.Location.FirstName ?? "layer";
        var weightType = m.Weight.Type;
        var biasType = new TensorType(weightType.Element, [m.Channels]);
        // The merged blobs go where the layer's weights were (with the other weights, before every layer: see CaffeImporter).
        var oldWeight = Constants.DefiningConstant(layer.GetOperand(1))!;
        rewriter.SetInsertionPointAfter(oldWeight);
        var newWeight = Constants.Create(rewriter.Builder, module, weightType, scaled, oldWeight.Location, name + "_0");
        var newBias = Constants.Create(rewriter.Builder, module, biasType, Constants.EncodeFloats(module, bias, biasType.Element),
            Blobs(layer) == 2 ? Constants.DefiningConstant(layer.GetOperand(2))!.Location : layer.Location, name + "_1");
        var last = m.Scale ?? m.BatchNorm;
        var tops = last.GetAttr(MoDialect.OutputsAttr);
        rewriter.ModifyInPlace(layer, () =>
        {
            layer.SetOperand(1, newWeight);
            if (layer.OperandCount > 2) layer.SetOperand(2, newBias);
            else
            {
                layer.AddOperand(newBias);
                layer.SetAttr(CaffeDialect.BlobsAttr, IntegerAttr.I64(2));
                if (layer.GetAttr(CaffeDialect.ParamAttr) is null)
                    layer.SetAttr(CaffeDialect.ParamAttr, new StringAttr(layer.Name.EndsWith("InnerProduct", StringComparison.Ordinal) ? "inner_product_param" : "convolution_param"));
                layer.SetAttr("bias_term", BoolAttr.True);
            }
            if (tops is not null) layer.SetAttr(MoDialect.OutputsAttr, tops);
        });
        var merged = m.Scale is null ? Describe(m.BatchNorm) : $"{Describe(m.BatchNorm)} and {Describe(m.Scale)}";
        rewriter.ReplaceOp(last, layer.Result);
        if (m.Scale is not null) rewriter.EraseIfDead(m.BatchNorm);
        context.Log($"merged {merged} into {layer.Name[(CaffeDialect.Name.Length + 1)..]} '{name}'");
        context.Count("pairs merged");
        if (m.Scale is not null) context.Count("Scales merged");
    }

    /// <summary>Where a blob keeps its output channels (and, per group, its input channels).</summary>
    private readonly record struct WeightChannels(int OutAxis, int InAxis, long Group);

    private static int Blobs(Operation op) => (int)(op.GetInt(CaffeDialect.BlobsAttr) ?? 0);

    private static ConstantTensor? Float(Value v, MirModule module) =>
        Constants.TryGet(v, module) is { Type.Element.IsFloat: true, Type.Shape: not null } t ? t : null;

    /// <summary>A constant float blob of exactly <paramref name="length"/> values (any shape), as doubles; else null.</summary>
    private static double[]? Vector(Value v, long length, MirModule module)
    {
        if (Float(v, module) is not { } t || t.ElementCount != length) return null;
        // float32 blobs (all of Caffe's) are read in place; others go through float as Caffe's reader takes them.
        var floats = t.Type.Element == ElementType.F32 ? FloatData.Floats(t) : t.ToFloats();
        var values = new double[floats.Length];
        for (int i = 0; i < floats.Length; i++) values[i] = floats[i];
        return values;
    }

    private static string Describe(Operation op) => $"{op.Name[(CaffeDialect.Name.Length + 1)..]} '{op.Location.FirstName ?? "unnamed"}'";

    private static string Other(Value v, Operation except) => v.Users.FirstOrDefault(u => u != except) is { } u
        ? u.Name == FuncOp.ReturnOpName ? "the net's outputs" : Describe(u)
        : $"{Describe(except)} twice";
}
