using Mopt.Ir;

namespace Mopt.Passes.Quantization;

/// <summary>
/// Each quantized layer's error: the float model and the QDQ model run side by side on (up to N of) the calibration
/// samples; per layer, its float output against the dequantized output its readers see in the QDQ model:
/// relative error = max|f − q| / max|f| and SQNR = 10·log10(Σf² / Σ(f − q)²) over all samples. That error accumulates
/// from the layers before; the "own" error is what quantizing this output alone loses: f against
/// DequantizeLinear(QuantizeLinear(f)) with the output's chosen scale and zero point (rounding, and clipping to the
/// calibrated range), so a layer whose range clips badly stands out even deep in the network.
/// </summary>
internal static class LayerErrors
{
    private sealed class Accumulator
    {
        public double MaxAbs, MaxDiff, Signal, Noise, OwnMaxDiff, OwnNoise;

        public void Add(float[] f, float[] q, QuantParams output, QuantType type)
        {
            int n = Math.Min(f.Length, q.Length);
            for (int i = 0; i < n; i++)
            {
                double d = (double)f[i] - q[i];
                MaxAbs = Math.Max(MaxAbs, Math.Abs(f[i]));
                MaxDiff = Math.Max(MaxDiff, Math.Abs(d));
                Signal += (double)f[i] * f[i];
                Noise += d * d;
                double own = (double)f[i] - QuantMath.Dequantize(QuantMath.Quantize(f[i], output, type), output);
                OwnMaxDiff = Math.Max(OwnMaxDiff, Math.Abs(own));
                OwnNoise += own * own;
            }
        }

        public double Relative(double diff) => MaxAbs > 0 ? diff / MaxAbs : diff;

        public double Sqnr(double noise) => noise > 0 ? 10 * Math.Log10(Signal / noise) : double.PositiveInfinity;
    }

    public static List<LayerRecord> Measure(IModelRunner runner, CalibrationSource source, MirModule floatModel, MirModule quantized,
        IReadOnlyList<(string Name, string OpType, Value Float, Value Quantized, QuantParams Output)> layers, QuantType type, int maxSamples,
        PassContext context)
    {
        if (layers.Count == 0) return [];
        var acc = layers.Select(_ => new Accumulator()).ToArray();
        var progress = new CalibrationProgress(context.Notes, context.NotesIsTerminal, "quantize-int8: measuring layer errors");
        int seen = runner.Run([new ProbedModel(floatModel, layers.Select(l => l.Float).ToList()), new ProbedModel(quantized, layers.Select(l => l.Quantized).ToList())],
            source, (_, perModel) =>
            {
                for (int i = 0; i < acc.Length; i++) acc[i].Add(perModel[0][i], perModel[1][i], layers[i].Output, type);
            }, progress.Report, maxSamples);
        progress.Finish();
        return layers.Select((l, i) => new LayerRecord(l.Name, l.OpType, acc[i].Relative(acc[i].MaxDiff), acc[i].Sqnr(acc[i].Noise),
            acc[i].Relative(acc[i].OwnMaxDiff), acc[i].Sqnr(acc[i].OwnNoise), seen)).ToList();
    }
}
