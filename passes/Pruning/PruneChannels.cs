using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Mopt.Dialects.Onnx;
using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--prune-channels='params=REGEX ratio=0.3 criterion=l1_norm'</c>: removes the least important output channels of
/// each group-1 <c>onnx.Conv</c> whose weight's name (its location: the source model's parameter name) matches
/// <c>params</c> in full, as PaddleSlim's structural pruning does (mopt does not train: accuracy usually needs
/// fine-tuning afterwards).
/// <code>
/// l1_norm:          score[m] = sum over (c, k) of |W[m, c, k]|
/// geometry_median:  score[m] = sum over j of ||W[m] - W[j]||_2
/// bn_scale:         score[m] = |gamma[m]| of the BatchNormalization right after the Conv
/// </code>
/// The floor(ratio * C) lowest scores go (ties: the lower index is kept; at least one channel stays). The channels
/// are then removed where they flow: the Conv's bias, BatchNormalizations, per-channel constant Mul/Add/Sub/Div and
/// PRelu slopes, element-wise activations and pools, the input channels of group-1 Convs, and the rows of a
/// Gemm/MatMul weight after a Flatten(axis 1). Anything else on the way (a residual Add of two tensors, Concat,
/// Reshape, a grouped or depthwise Conv, a graph output) skips that Conv with the reason, leaving it untouched.
/// New weights are new constants, sliced from the old bytes.
/// </summary>
public sealed class PruneChannels : Pass
{
    private static readonly string[] Criteria = ["l1_norm", "geometry_median", "bn_scale"];

    private static readonly HashSet<string> PassThrough =
    [
        "onnx.Relu", "onnx.LeakyRelu", "onnx.Sigmoid", "onnx.Tanh", "onnx.Elu", "onnx.Selu", "onnx.HardSigmoid",
        "onnx.HardSwish", "onnx.Softplus", "onnx.Softsign", "onnx.Mish", "onnx.Gelu", "onnx.Identity", "onnx.Dropout",
        "onnx.MaxPool", "onnx.AveragePool", "onnx.GlobalAveragePool", "onnx.GlobalMaxPool", "onnx.Clip", "onnx.Abs", "onnx.Neg",
    ];

    private readonly PassOption<string> _params = new("params", "regular expression over Conv weight names (matched in full)", "");
    private readonly PassOption<double> _ratio = new("ratio", "fraction of each matched Conv's output channels to remove, in [0, 1)", 0.3);
    private readonly PassOption<string> _criterion = new("criterion", "how channels are ranked", "l1_norm",
        valid: c => Criteria.Contains(c), allowed: "l1_norm, geometry_median or bn_scale");
    private readonly PassOption<string> _report = new("report", "write the report as JSON to this file (mopt-opt's --prune-report)", "");

    public override string Name => "prune-channels";
    public override string Summary => "Remove the least important output channels of Convs whose weight names match a regex (PaddleSlim-style; no training)";
    public override IReadOnlyList<PassOption> Options => [_params, _ratio, _criterion, _report];

    /// <summary>Sets where the JSON report goes (mopt-opt's <c>--prune-report=FILE.json</c>).</summary>
    public void SetReport(string path) => _report.Parse(path);

    public override void Run(MirModule module, PassContext context)
    {
        double ratio = _ratio.Value;
        if (!(ratio >= 0 && ratio < 1))
            throw new PipelineException($"pass 'prune-channels': ratio={ratio.ToString(CultureInfo.InvariantCulture)} is outside [0, 1)");
        // Without params nothing is chosen: the pass runs with its defaults as every pass must (a no-op).
        if (_params.Value.Length == 0)
        {
            context.Log("no params=REGEX given: nothing to prune");
            context.MarkAllPreserved();
            return;
        }
        // Compiled alone first, so the error's offset is in the user's own text.
        try { _ = new Regex(_params.Value, RegexOptions.CultureInvariant); }
        catch (RegexParseException e)
        {
            throw new PipelineException($"pass 'prune-channels': params='{_params.Value}' is not a valid regular expression: {Words(e.Error.ToString())} at offset {e.Offset}");
        }
        var regex = new Regex("^(?:" + _params.Value + ")$", RegexOptions.CultureInvariant);

        var convs = module.AllOperations().Where(o => o.Name == "onnx.Conv").ToList();
        var names = convs.Select(WeightName).Where(n => n is not null).Select(n => n!).ToList();
        var matched = convs.Where(c => WeightName(c) is { } n && regex.IsMatch(n)).ToList();
        if (matched.Count == 0)
        {
            var few = names.Count == 0 ? "the model has no onnx.Conv with a named constant weight (the pass runs on onnx.*: lower the model first, e.g. --pipeline=deploy)"
                : "Conv weights are named e.g. " + string.Join(", ", names.Take(5).Select(n => $"'{n}'")) + (names.Count > 5 ? $" ({names.Count} in all)" : "");
            throw new PipelineException($"pass 'prune-channels': params='{_params.Value}' matches no Conv weight; {few}");
        }

        var (paramsBefore, flopsBefore) = Measure(module, context);
        var rows = new List<(string Layer, long Before, long After)>();
        foreach (var conv in matched)
        {
            if (Plan(conv, module, ratio, _criterion.Value, out var reason) is not { } plan)
            {
                if (reason.Length > 0) context.Skip(conv, reason);
                continue;
            }
            Apply(plan, module);
            context.Count("convs pruned");
            context.Count("channels removed", plan.Channels - plan.Kept.Length);
            rows.Add((FloatName(conv), plan.Channels, plan.Kept.Length));
            context.Log($"pruned {FloatName(conv)}: {plan.Channels} -> {plan.Kept.Length} channels (removed {string.Join(", ", plan.Removed)})");
        }
        var (paramsAfter, flopsAfter) = rows.Count == 0 ? (paramsBefore, flopsBefore) : Measure(module, context);
        if (rows.Count > 0) context.Note(Report(rows, paramsBefore, paramsAfter, flopsBefore, flopsAfter));
        if (_report.Value.Length > 0)
        {
            var skips = context.Skips.ToList();
            context.WriteFile(_report.Value, stream => WriteJson(stream, rows, skips, paramsBefore, paramsAfter, flopsBefore, flopsAfter), "prune-channels report");
        }
        if (rows.Count == 0) context.MarkAllPreserved();
    }

    /// <summary>"InsufficientClosingParentheses" as "insufficient closing parentheses" (AOT builds carry no .NET message texts).</summary>
    private static string Words(string name) => Regex.Replace(name, "(?<=[a-z])(?=[A-Z])", " ").ToLowerInvariant();

    private static string? WeightName(Operation conv) =>
        conv.OperandCount > 1 ? Constants.DefiningConstant(conv.GetOperand(1))?.Location.FirstName : null;

    private static string FloatName(Operation op) => op.Location.FirstName ?? op.Name;

    private static string Report(List<(string Layer, long Before, long After)> rows, long pb, long pa, long fb, long fa)
    {
        var sb = new StringBuilder();
        int width = Math.Max(5, rows.Max(r => r.Layer.Length));
        sb.AppendLine("prune-channels report (mopt does not train: accuracy usually needs fine-tuning after pruning)");
        sb.AppendLine($"  {"layer".PadRight(width)}  channels before  after");
        foreach (var (layer, before, after) in rows) sb.AppendLine($"  {layer.PadRight(width)}  {before,15}  {after,5}");
        sb.AppendLine($"  parameters: {pb} -> {pa} ({Percent(pb, pa)})");
        sb.Append($"  multiply-adds: {fb} -> {fa} ({Percent(fb, fa)})");
        return sb.ToString();
    }

    /// <summary>The report as JSON, written by hand (no reflection: mopt-opt is AOT-compiled).</summary>
    private void WriteJson(Stream stream, List<(string Layer, long Before, long After)> rows, List<string> skips, long pb, long pa, long fb, long fa)
    {
        using var json = new System.Text.Json.Utf8JsonWriter(stream, new System.Text.Json.JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("params", _params.Value);
        json.WriteNumber("ratio", _ratio.Value);
        json.WriteString("criterion", _criterion.Value);
        json.WriteStartArray("layers");
        foreach (var (layer, before, after) in rows)
        {
            json.WriteStartObject();
            json.WriteString("name", layer);
            json.WriteNumber("channels_before", before);
            json.WriteNumber("channels_after", after);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("skipped");
        foreach (var skip in skips) json.WriteStringValue(skip);
        json.WriteEndArray();
        json.WriteNumber("parameters_before", pb);
        json.WriteNumber("parameters_after", pa);
        json.WriteNumber("multiply_adds_before", fb);
        json.WriteNumber("multiply_adds_after", fa);
        json.WriteString("note", "mopt does not train: accuracy usually needs fine-tuning after pruning");
        json.WriteEndObject();
    }

    private static string Percent(long before, long after) =>
        before == 0 ? "-" : (100.0 * (after - before) / before).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + "%";

    // ------------------------------------------------------------------ planning

    /// <summary>A change to one operand: keep <c>Kept</c> along <c>Axis</c> of the constant (in blocks of <c>Block</c>).</summary>
    private sealed record Slice(Operation Op, int Operand, int Axis, long Block);

    private sealed record PrunePlan(Operation Conv, long Channels, int[] Kept, int[] Removed, List<Slice> Slices, List<Value> Retyped, List<Value> Flattened);

    private static PrunePlan? Plan(Operation conv, MirModule module, double ratio, string criterion, out string reason)
    {
        reason = "";
        if ((conv.ReadInt("group") ?? 1) != 1) { reason = $"group = {conv.ReadInt("group")}: grouped and depthwise Convs change with their neighbours (not pruned on their own)"; return null; }
        if (Constants.TryGet(conv.GetOperand(1), module) is not { } w || !w.Type.Element.IsFloat || w.Type.Shape is not { Count: >= 3 } ws)
        { reason = "weight is not a constant float tensor of rank 3 or more"; return null; }
        long channels = ws[0];
        int remove = (int)Math.Min(Math.Floor(ratio * channels), channels - 1);
        if (remove <= 0) return null;

        var slices = new List<Slice> { new(conv, 1, 0, 1) };
        if (conv.OperandCount > 2 && conv.GetOperand(2).Type is TensorType)
        {
            if (Constants.TryGet(conv.GetOperand(2), module) is not { } b || b.ElementCount != channels) { reason = "bias is not a constant of C elements"; return null; }
            slices.Add(new(conv, 2, 0, 1));
        }
        var retyped = new List<Value>();
        var flattened = new List<Value>();
        var work = new Queue<Value>();
        work.Enqueue(conv.Result);
        Operation? firstBn = null;
        while (work.Count > 0)
        {
            var v = work.Dequeue();
            if (v.Type is not TensorType { IsRanked: true } vt || vt.Rank < 2 || vt.Shape![1] != channels)
            { reason = $"the channels reach a value of type {v.Type} whose axis 1 is not the {channels} channels"; return null; }
            retyped.Add(v);
            foreach (var user in v.Users.Distinct().ToList())
            {
                var why = Follow(user, v, vt, channels, module, slices, flattened, work, ref firstBn);
                if (why is not null) { reason = why; return null; }
            }
        }

        double[] scores;
        if (criterion == "bn_scale")
        {
            if (firstBn is null || firstBn.GetOperand(0) != conv.Result) { reason = "criterion bn_scale needs a BatchNormalization right after the Conv"; return null; }
            var gamma = Constants.TryGet(firstBn.GetOperand(1), module)!.ToFloats();
            scores = gamma.Select(g => (double)Math.Abs(g)).ToArray();
        }
        else
        {
            var values = w.ToFloats();
            int per = (int)(values.Length / channels);
            scores = criterion == "l1_norm" ? L1(values, (int)channels, per) : GeometryMedian(values, (int)channels, per);
        }
        // Lowest score first; among equals the higher index goes first, so the lower index is kept.
        var order = Enumerable.Range(0, (int)channels).OrderBy(i => scores[i]).ThenByDescending(i => i).ToArray();
        var removed = order.Take(remove).Order().ToArray();
        var kept = Enumerable.Range(0, (int)channels).Except(removed).ToArray();
        return new PrunePlan(conv, channels, kept, removed, slices, retyped, flattened);
    }

    /// <summary>Records what <paramref name="user"/> needs to follow the pruned channels of <paramref name="v"/>; null when it can, else why not.</summary>
    private static string? Follow(Operation user, Value v, TensorType vt, long channels, MirModule module, List<Slice> slices,
        List<Value> flattened, Queue<Value> work, ref Operation? firstBn)
    {
        string who = user.Location.FirstName is { } n ? $"{user.Name} {n}" : user.Name;
        if (user.Name == "func.return") return "its channels reach a graph output, whose shape would change";
        bool onlyInput = user.OperandSlots.All(s => s.Value != v || s.Index == 0);
        if (user.Name == "onnx.BatchNormalization" && onlyInput && user.Results.Count == 1 && user.OperandCount == 5)
        {
            for (int i = 1; i < 5; i++)
                if (Constants.TryGet(user.GetOperand(i), module) is not { } p || p.ElementCount != channels) return $"{who} has a parameter that is not a constant of C elements";
            for (int i = 1; i < 5; i++) slices.Add(new(user, i, 0, 1));
            firstBn ??= user;
            work.Enqueue(user.Result);
            return null;
        }
        if (PassThrough.Contains(user.Name) && onlyInput && user.Results.Count == 1)
        {
            for (int i = 1; i < user.OperandCount; i++)
                if (user.GetOperand(i).Type is TensorType && Constants.TryGet(user.GetOperand(i), module) is not { ElementCount: <= 1 })
                    return $"{who} has an operand that is not a constant scalar";
            work.Enqueue(user.Result);
            return null;
        }
        if (user.Name is "onnx.Mul" or "onnx.Add" or "onnx.Sub" or "onnx.Div" or "onnx.PRelu" && user.OperandCount == 2)
        {
            int other = user.GetOperand(0) == v ? 1 : 0;
            if (user.GetOperand(other) == v) return $"{who} reads the channels twice";
            if (user.Name is "onnx.PRelu" or "onnx.Div" && other == 0) return $"{who} reads the channels as its second operand";
            if (Constants.TryGet(user.GetOperand(other), module) is not { Type.Shape: { } cs } c)
                return $"{who} joins the channels with a non-constant tensor (a residual join: pruned together in a later step)";
            if (user.Result.Type is not TensorType rt || !rt.Equals(vt)) return $"{who} broadcasts the channels to a larger shape";
            int axis = cs.Count - (vt.Rank - 1);
            if (cs.Count > vt.Rank) return $"{who} has a constant of higher rank";
            bool perChannel = axis >= 0 && cs[axis] == channels;
            for (int i = 0; i < cs.Count; i++)
                if (cs[i] != 1 && !(perChannel && i == axis)) return $"{who} has a constant that is not per-channel (shape [{string.Join(", ", cs)}])";
            if (perChannel) slices.Add(new(user, other, axis, 1));
            work.Enqueue(user.Result);
            return null;
        }
        if (user.Name == "onnx.Conv" && onlyInput)
        {
            if ((user.ReadInt("group") ?? 1) != 1) return $"{who} is a grouped or depthwise Conv (lockstep pruning is the next step)";
            if (Constants.TryGet(user.GetOperand(1), module) is not { Type.Shape: { Count: >= 3 } s } || s[1] != channels) return $"{who} has no constant weight with {channels} input channels";
            slices.Add(new(user, 1, 1, 1));
            return null;
        }
        if (user.Name == "onnx.Flatten" && onlyInput && (user.ReadInt("axis") ?? 1) == 1 && vt.HasStaticShape)
        {
            long block = 1;
            for (int i = 2; i < vt.Rank; i++) block *= vt.Shape![i];
            var f = user.Result;
            foreach (var g in f.Users.Distinct())
            {
                string gw = g.Location.FirstName is { } gn ? $"{g.Name} {gn}" : g.Name;
                if (g.OperandSlots.Any(s => s.Value == f && s.Index != 0) || g.Name is not ("onnx.Gemm" or "onnx.MatMul"))
                    return $"the Flatten {FloatName(user)} feeds {gw}, not the first operand of a Gemm or MatMul";
                if ((g.ReadInt("transA") ?? 0) != 0) return $"{gw} transposes its input";
                bool transB = (g.ReadInt("transB") ?? 0) != 0;
                if (Constants.TryGet(g.GetOperand(1), module) is not { Type.Shape: { Count: 2 } bs } || bs[transB ? 1 : 0] != channels * block)
                    return $"{gw} has no constant 2-D weight with {channels * block} inputs";
                slices.Add(new(g, 1, transB ? 1 : 0, block));
            }
            flattened.Add(f);
            return null;
        }
        return $"its channels reach {who}, which this step cannot shrink";
    }

    private static double[] L1(float[] w, int channels, int per)
    {
        var s = new double[channels];
        for (int m = 0; m < channels; m++)
            for (int i = 0; i < per; i++) s[m] += Math.Abs((double)w[m * per + i]);
        return s;
    }

    private static double[] GeometryMedian(float[] w, int channels, int per)
    {
        var s = new double[channels];
        for (int m = 0; m < channels; m++)
            for (int j = m + 1; j < channels; j++)
            {
                double d = 0;
                for (int i = 0; i < per; i++) { double x = (double)w[m * per + i] - w[j * per + i]; d += x * x; }
                d = Math.Sqrt(d);
                s[m] += d;
                s[j] += d;
            }
        return s;
    }

    // ------------------------------------------------------------------ rewriting

    private static void Apply(PrunePlan plan, MirModule module)
    {
        var old = new HashSet<Operation>();
        foreach (var slice in plan.Slices)
        {
            var value = slice.Op.GetOperand(slice.Operand);
            var constant = Constants.DefiningConstant(value)!;
            var tensor = Constants.TryGet(value, module)!;
            var shape = tensor.Type.Shape!.ToArray();
            int size = tensor.Type.Element.ByteSize;
            long outer = 1, inner = size;
            for (int i = 0; i < slice.Axis; i++) outer *= shape[i];
            for (int i = slice.Axis + 1; i < shape.Length; i++) inner *= shape[i];
            long blockBytes = inner * slice.Block;
            long rowBytes = shape[slice.Axis] * inner;
            var bytes = new byte[outer * plan.Kept.Length * blockBytes];
            var src = tensor.Bytes.Span;
            long at = 0;
            // Copies each kept channel's block of bytes: no conversion, so the kept values stay bit for bit.
            for (long o = 0; o < outer; o++)
                foreach (var k in plan.Kept)
                {
                    src.Slice(checked((int)(o * rowBytes + k * blockBytes)), checked((int)blockBytes)).CopyTo(bytes.AsSpan(checked((int)at)));
                    at += blockBytes;
                }
            shape[slice.Axis] = plan.Kept.Length * slice.Block;
            var type = new TensorType(tensor.Type.Element, shape);
            var created = Constants.Create(OpBuilder.Before(slice.Op), module, type, bytes, constant.Location, constant.Location.FirstName ?? "pruned");
            slice.Op.SetOperand(slice.Operand, created);
            old.Add(constant);
        }
        foreach (var v in plan.Retyped)
        {
            var t = (TensorType)v.Type;
            var shape = t.Shape!.ToArray();
            shape[1] = plan.Kept.Length;
            v.Type = new TensorType(t.Element, shape);
        }
        foreach (var v in plan.Flattened)
        {
            var t = (TensorType)v.Type;
            if (!t.IsRanked || t.Rank != 2 || t.Shape![1] < 0) continue;
            var shape = t.Shape.ToArray();
            shape[1] = shape[1] / plan.Channels * plan.Kept.Length;
            v.Type = new TensorType(t.Element, shape);
        }
        foreach (var c in old)
            if (!c.Result.HasUses) c.Erase();
        module.RemoveUnreferencedBlobs();
    }

    // ------------------------------------------------------------------ measuring

    /// <summary>Parameters (elements of float constants) and multiply-adds of Convs, Gemms and MatMuls (dynamic dimensions count 1).</summary>
    private static (long Params, long Flops) Measure(MirModule module, PassContext context)
    {
        long parameters = 0, flops = 0;
        foreach (var op in module.AllOperations())
        {
            if (context.Dialects.Interface<IConstantLike>(op) is not null)
            {
                if (op.Results.Count == 1 && op.Result.Type is TensorType { Element.IsFloat: true } t && t.ElementCount is long n) parameters += n;
                continue;
            }
            if (op.Name is not ("onnx.Conv" or "onnx.Gemm" or "onnx.MatMul") || op.Results.Count < 1 || op.OperandCount < 2) continue;
            if (op.Result.Type is not TensorType { IsRanked: true } rt || op.GetOperand(1).Type is not TensorType { IsRanked: true } wt) continue;
            long outElems = rt.Shape!.Aggregate(1L, (a, d) => a * Math.Max(1, d));
            long perOutput = op.Name switch
            {
                "onnx.Conv" => wt.Shape!.Skip(1).Aggregate(1L, (a, d) => a * Math.Max(1, d)),
                "onnx.Gemm" => Math.Max(1, wt.Shape![(op.ReadInt("transB") ?? 0) != 0 ? 1 : 0]),
                _ => Math.Max(1, wt.Rank >= 2 ? wt.Shape![wt.Rank - 2] : wt.Shape![0]),
            };
            flops += outElems * perOutput;
        }
        return (parameters, flops);
    }
}
