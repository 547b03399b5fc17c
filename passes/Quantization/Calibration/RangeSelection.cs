using Mopt.Dialects.Mo;
using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>One range a calibration method proposes for a tensor.</summary>
public sealed record RangeCandidate(string Method, float Min, float Max);

/// <summary>What <c>method=auto</c> chose for one tensor, and each candidate's error on the layers that read it.</summary>
public sealed record RangeChoice(string Tensor, RangeCandidate Chosen, IReadOnlyList<(RangeCandidate Candidate, double Error)> Errors, string MeasuredOn);

/// <summary>
/// <c>method=auto</c>: per activation, the candidate range (min-max, percentiles 99.9 / 99.99 / 99.999, entropy, mse)
/// whose quantization disturbs the layers that read it the least, measured on the calibration samples in ONNX Runtime.
/// <code>
/// For tensor x with readers R and candidate k (scale_k, zero_k as QuantMath.ForRange gives them):
///   x_k   = DequantizeLinear(QuantizeLinear(x, scale_k, zero_k))      (x quantized alone; every other tensor float)
///   r_k   = a copy of r reading x_k instead of x                       (for each r in R)
///   error(k) = Σ_r  Σ_samples ‖r_k − r‖² / Σ_samples ‖r‖²              (ReduceSumSquare in the model: scalars come back)
/// chosen = the widest candidate whose error is within <c>margin</c> (default 25%) of the least: the error is measured
///          on samples, with noise, and a range that clips less is safer on inputs the calibration did not see.
/// </code>
/// A reader that cannot be copied (a graph output, an op with regions, one of several results or a result that is not
/// float) is replaced by x itself: its own relative squared error. All candidates of all tensors run as one model over
/// at most <c>maxSamples</c> samples: the cost is about (candidates × readers) copies of the reading layers.
/// </summary>
internal static class RangeSelection
{
    /// <summary>How much more error than the least a wider candidate may have and still be chosen (the auto-margin option's default).</summary>
    public const double DefaultMargin = 0.25;

    private static double Width(RangeCandidate c) => (double)c.Max - c.Min;

    /// <summary>The percentiles auto tries besides min-max, entropy and mse (ONNX Runtime's default is 99.999).</summary>
    public static readonly double[] Percentiles = [99.9, 99.99, 99.999];

    /// <summary>Each method's range from the same statistics, in the order ties are broken; equal ranges are tried once (first name kept).</summary>
    public static List<RangeCandidate> CandidatesOf(TensorStatistics stats)
    {
        var all = new List<RangeCandidate>();
        void Add(string method, (float Min, float Max) r)
        {
            if (!all.Any(c => c.Min == r.Min && c.Max == r.Max)) all.Add(new RangeCandidate(method, r.Min, r.Max));
        }
        Add("minmax", stats.RangeBy(CalibrationMethod.MinMax, 100));
        foreach (var p in Percentiles)
            Add($"percentile {p.ToString(System.Globalization.CultureInfo.InvariantCulture)}", stats.RangeBy(CalibrationMethod.Percentile, p));
        Add("entropy", stats.RangeBy(CalibrationMethod.Entropy, 100));
        Add("mse", stats.RangeBy(CalibrationMethod.Mse, 100));
        return all;
    }

    private sealed record Measured(int Candidate, int Reader, int Output);

    public static List<RangeChoice> Choose(IModelRunner runner, CalibrationSource source, MirModule module, IReadOnlyList<Value> probes,
        IReadOnlyList<List<RangeCandidate>> candidates, ActivationGrid grid, int maxSamples, double margin, PassContext context)
    {
        var map = new Dictionary<Value, Value>();
        var measure = module.Clone(map);
        var main = measure.MainFunction.Body;
        var outputs = new List<Value>();
        var plans = new List<(List<Measured> Errors, List<int> Norms, string On)>();
        // The model's own readers, taken before any measuring op is added (those read the same tensors).
        var readersOf = probes.Select(p => map[p].Uses.Select(u => u.Owner).Distinct().ToList()).ToList();
        for (int i = 0; i < probes.Count; i++)
        {
            var x = map[probes[i]];
            var readers = readersOf[i].Where(r => Copyable(r, main)).ToList();
            bool own = readers.Count == 0 || readersOf[i].Any(r => !Copyable(r, main));
            var references = readers.Select(r => r.Results[0]).Cast<Value>().ToList();
            if (own) references.Add(x);
            var norms = new List<int>();
            var errors = new List<Measured>();
            string name = QuantGraph.TensorName(probes[i]);
            for (int r = 0; r < references.Count; r++)
            {
                var reference = references[r];
                var at = r < readers.Count ? OpBuilder.After(readers[r]) : QuantGraph.AfterDefinition(x);
                norms.Add(outputs.Count);
                outputs.Add(SumOfSquares(at, reference, $"{name}_auto_norm{r}"));
                for (int k = 0; k < candidates[i].Count; k++)
                {
                    var c = candidates[i][k];
                    var p = QuantMath.ForRange(c.Min, c.Max, grid.Type, grid.Symmetric);
                    string tag = $"{name}_auto{k}_{r}";
                    var (scale, zero) = QuantGraph.Params(at, measure, [p], grid.Type, tag);
                    var q = QuantGraph.QuantizeValue(at, x, scale, zero, grid.Type, tag + "_q");
                    var dq = QuantGraph.Dequantize(at, q, scale, zero, null, tag + "_dq");
                    Value disturbed = dq;
                    if (r < readers.Count)
                    {
                        var reader = readers[r];
                        var copy = at.Create(reader.Name, reader.Operands.Select(v => v == x ? dq : v), reader.Results.Select(v => v.Type),
                            reader.Attributes.Where(a => a.Name != MoDialect.OutputsAttr), Location.Named(tag + "_reader"));
                        disturbed = copy.Results[0];
                    }
                    var diff = at.Create(SubOp.OpName, [disturbed, reference], [reference.Type], null, Location.Named(tag + "_diff")).Result;
                    errors.Add(new Measured(k, r, outputs.Count));
                    outputs.Add(SumOfSquares(at, diff, tag + "_error"));
                }
            }
            plans.Add((errors, norms, own ? (readers.Count == 0 ? "itself" : $"{readers.Count} readers and itself") : $"{readers.Count} reader{(readers.Count == 1 ? "" : "s")}"));
        }

        var sums = new double[outputs.Count];
        var progress = new CalibrationProgress(context.Notes, context.NotesIsTerminal, "quantize-int8: method=auto: measuring candidate ranges");
        runner.Run([new ProbedModel(measure, outputs)], source, (_, perModel) =>
        {
            var values = perModel[0];
            for (int o = 0; o < sums.Length; o++) sums[o] += values[o].Length > 0 ? values[o][0] : 0;
        }, progress.Report, maxSamples);
        progress.Finish();

        var choices = new List<RangeChoice>(probes.Count);
        for (int i = 0; i < probes.Count; i++)
        {
            var (errors, norms, on) = plans[i];
            var score = new double[candidates[i].Count];
            foreach (var e in errors) score[e.Candidate] += sums[e.Output] / Math.Max(sums[norms[e.Reader]], 1e-30);
            // The least error wins, but a wider range within the margin of it is preferred: the samples measure the
            // error with noise, and a range that clips less is safer on inputs the calibration did not see.
            // A reader that also reads an inf (a -inf mask, say) makes every error NaN: nothing to compare, min-max stays.
            for (int k = 0; k < score.Length; k++) if (double.IsNaN(score[k])) score[k] = double.PositiveInfinity;
            double least = score.Min();
            int best = 0;
            if (double.IsFinite(least))
            {
                for (int k = 0; k < score.Length; k++)
                    if (score[k] <= least * (1 + margin) && (score[best] > least * (1 + margin) || Width(candidates[i][k]) > Width(candidates[i][best]))) best = k;
            }
            else
            {
                context.Note($"quantize-int8: method=auto: the layers reading '{QuantGraph.TensorName(probes[i])}' give no finite error to compare; its range is min-max");
            }
            choices.Add(new RangeChoice(QuantGraph.TensorName(probes[i]), candidates[i][best],
                candidates[i].Select((c, k) => (c, score[k])).ToList(), on));
        }
        return choices;
    }

    /// <summary>A reader auto can copy: an ONNX op of the main body without regions whose only result is a float tensor.</summary>
    private static bool Copyable(Operation reader, Block main) =>
        reader.Parent == main && reader.Dialect == OnnxDialect.Name && reader.Regions.Count == 0 && reader.Results.Count == 1
        && reader.Results[0].Type is TensorType { Element.IsFloat: true };

    /// <summary>ReduceSumSquare over every axis to a scalar (no axes: all of them, at every opset).</summary>
    private static Value SumOfSquares(OpBuilder b, Value v, string name) =>
        b.Create(ReduceSumSquareOp.OpName, [v], [new TensorType(ElementType.F32, [])], [new NamedAttr("keepdims", IntegerAttr.I64(0))], Location.Named(name)).Result;
}
