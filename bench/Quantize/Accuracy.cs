using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Mopt.Backend.Runtime;
using Mopt.Ir;

namespace Mopt.Bench.Quantize;

/// <summary>How a quantized model's outputs compare with the float model's over the evaluation samples.</summary>
public sealed class Accuracy
{
    /// <summary>
    /// The project's relative difference with the evaluation set taken as one tensor per output: max |q - f| over all
    /// samples / max |f| over all samples, the largest over outputs (a sample whose outputs are all near zero does not
    /// blow it up).
    /// </summary>
    public double MaxRelError { get; set; }
    public long Top1Agree { get; set; }
    public long Top1Total { get; set; }
    /// <summary>The same on the real test_data_set inputs only (when the model has them).</summary>
    public long RealAgree { get; set; }
    public long RealTotal { get; set; }
    /// <summary>The worst PSNR over samples of the image outputs (rank 4), in dB; null when there are none.</summary>
    public double? MinPsnr { get; set; }

    public double? Top1 => Top1Total == 0 ? null : (double)Top1Agree / Top1Total;
    /// <summary>Samples whose top-1 class is their label (a labelled dataset), and how many were labelled.</summary>
    public long LabelCorrect { get; set; }
    public long LabelTotal { get; set; }
    public double? LabelTop1 => LabelTotal == 0 ? null : (double)LabelCorrect / LabelTotal;
}

/// <summary>
/// Runs the float model and each quantized one in ONNX Runtime as a deployment would (ORT_ENABLE_ALL, which turns QDQ
/// pairs into integer kernels, 1 thread) on the same samples and compares the outputs. Top-1 agreement: argmax over the
/// class axis per sample, for a [N, C] output (classifiers) and for a [N, A, C] output named *score* (a detector's
/// per-anchor class scores: one argmax per anchor); other outputs (boxes, images) count in the relative error only, and
/// image outputs [N, C, H, W] also get a PSNR (peak = the float output's range in that sample).
/// </summary>
/// <remarks>With <c>labels</c> (one per sample), the first class output's top-1 is also counted against them.</remarks>
public sealed class Evaluator(IReadOnlyList<Dictionary<string, NpyArray>> samples, int realFrom, long[]? labels = null)
{
    /// <summary>The float model's top-1 against the labels (null without labels).</summary>
    public Accuracy? FloatLabels { get; private set; }

    private List<Dictionary<string, NpyArray>>? _reference;
    private IReadOnlyList<string> _outputNames = [];

    public static OrtOptions Deployed => new() { Optimization = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpThreads = 1 };

    /// <summary>Runs the float model on every sample: the reference.</summary>
    public void RunReference(string floatPath)
    {
        using var runner = new OrtRunner(floatPath, Deployed);
        _outputNames = runner.OutputNames.ToArray();
        _reference = samples.Select(s => runner.Run(s)).ToList();
        if (labels is not null)
        {
            FloatLabels = new Accuracy();
            for (int s = 0; s < samples.Count; s++) CountLabel(FloatLabels, _reference[s], s);
        }
    }

    /// <summary>Counts sample <paramref name="s"/> against its label, on the first output with class rows (one row per sample).</summary>
    private void CountLabel(Accuracy acc, Dictionary<string, NpyArray> outputs, int s)
    {
        foreach (var name in _outputNames)
        {
            var a = outputs[name];
            if (ClassRows(name, a.Shape) is not int classes) continue;
            var v = Floats(a);
            acc.LabelTotal++;
            if (ArgMax(v, 0, classes) == labels![s]) acc.LabelCorrect++;
            return;
        }
    }

    public Accuracy Compare(string path)
    {
        var reference = _reference ?? throw new InvalidOperationException("RunReference first");
        using var runner = new OrtRunner(path, Deployed);
        var names = runner.OutputNames;
        if (names.Count != _outputNames.Count)
            throw new BenchException($"'{Path.GetFileName(path)}' has {names.Count} outputs, the float model {_outputNames.Count}");
        var acc = new Accuracy();
        var maxAbs = new double[_outputNames.Count];
        var maxRef = new double[_outputNames.Count];
        for (int s = 0; s < samples.Count; s++)
        {
            var got = runner.Run(samples[s]);
            if (labels is not null) CountLabel(acc, got.Keys.SequenceEqual(_outputNames) ? got : Renamed(got, names), s);
            for (int o = 0; o < _outputNames.Count; o++)
            {
                var f = reference[s][_outputNames[o]];
                // by name; by position if the quantizer renamed an output
                var q = got.TryGetValue(_outputNames[o], out var byName) ? byName : got[names[o]];
                if (!f.Shape.SequenceEqual(q.Shape))
                    throw new BenchException($"output '{_outputNames[o]}' has shape [{string.Join("x", q.Shape)}], the float model's [{string.Join("x", f.Shape)}]");
                var fv = Floats(f);
                var qv = Floats(q);
                Accumulate(fv, qv, ref maxAbs[o], ref maxRef[o]);
                if (ClassRows(_outputNames[o], f.Shape) is int classes)
                {
                    var (agree, rows) = Top1(fv, qv, classes);
                    acc.Top1Agree += agree;
                    acc.Top1Total += rows;
                    if (s >= realFrom) { acc.RealAgree += agree; acc.RealTotal += rows; }
                }
                if (f.Shape.Length == 4)
                    acc.MinPsnr = Math.Min(acc.MinPsnr ?? double.PositiveInfinity, Psnr(fv, qv));
            }
        }
        for (int o = 0; o < _outputNames.Count; o++)
            acc.MaxRelError = Math.Max(acc.MaxRelError, maxAbs[o] == 0 ? 0 : maxAbs[o] / Math.Max(maxRef[o], 1e-30));
        return acc;
    }

    /// <summary>The outputs under the float model's names, by position (a quantizer may rename an output).</summary>
    private Dictionary<string, NpyArray> Renamed(Dictionary<string, NpyArray> got, IReadOnlyList<string> names) =>
        _outputNames.Select((n, i) => (n, got.TryGetValue(n, out var v) ? v : got[names[i]])).ToDictionary(p => p.n, p => p.Item2, StringComparer.Ordinal);

    /// <summary>The class count when the output is one the benchmark takes top-1 over, else null.</summary>
    public static int? ClassRows(string name, long[] shape) =>
        shape.Length == 2 && shape[1] > 1 ? (int)shape[1]
        : shape.Length == 3 && shape[2] > 1 && name.Contains("score", StringComparison.OrdinalIgnoreCase) ? (int)shape[2]
        : null;

    /// <summary>Which kind of accuracy figure the model's outputs give: "top-1", "PSNR" or "rel. error only".</summary>
    public string Measures => _reference is null ? "?" : string.Join(", ", _outputNames.Select(n =>
    {
        var shape = _reference[0][n].Shape;
        string what = ClassRows(n, shape) is not null ? "top-1" : shape.Length == 4 ? "PSNR" : "rel. error";
        return $"{n} [{string.Join("x", shape)}]: {what}";
    }));

    private static float[] Floats(NpyArray a) =>
        a.Element == ElementType.F32 ? MemoryMarshal.Cast<byte, float>(a.Data).ToArray() : RandomInputs.ToDoubles(a).Select(d => (float)d).ToArray();

    private static void Accumulate(float[] f, float[] q, ref double maxAbs, ref double maxRef)
    {
        for (int i = 0; i < f.Length; i++)
        {
            double d = Math.Abs((double)f[i] - q[i]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            maxAbs = Math.Max(maxAbs, d);
            maxRef = Math.Max(maxRef, Math.Abs(f[i]));
        }
    }

    private static (long Agree, long Rows) Top1(float[] f, float[] q, int classes)
    {
        long rows = f.Length / classes, agree = 0;
        for (long r = 0; r < rows; r++)
            if (ArgMax(f, r * classes, classes) == ArgMax(q, r * classes, classes)) agree++;
        return (agree, rows);
    }

    private static int ArgMax(float[] v, long start, int count)
    {
        int best = 0;
        for (int i = 1; i < count; i++) if (v[start + i] > v[start + best]) best = i;
        return best;
    }

    private static double Psnr(float[] f, float[] q)
    {
        double mse = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int i = 0; i < f.Length; i++)
        {
            double d = (double)f[i] - q[i];
            mse += d * d;
            min = Math.Min(min, f[i]);
            max = Math.Max(max, f[i]);
        }
        mse /= f.Length;
        double peak = max - min;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(peak * peak / mse);
    }
}
