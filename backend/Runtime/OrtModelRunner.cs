using System.Runtime.InteropServices;
using Mopt.Ir;


namespace Mopt.Backend.Runtime;

/// <summary>
/// Runs probed modules in ONNX Runtime on calibration samples (what <c>quantize-int8</c> calibrates with): each
/// module is exported once with its probes as extra graph outputs, and one session per module serves every sample.
/// </summary>
public sealed class OrtModelRunner(OrtOptions? options = null) : IModelRunner
{
    /// <summary>Calibration runs many samples: let ONNX Runtime use the cores (a last-bit difference in a sum moves no range).</summary>
    private readonly OrtOptions _options = options ?? new OrtOptions { IntraOpThreads = Math.Clamp(Environment.ProcessorCount, 1, 8) };

    public IModelRunner WithThreads(int threads) => new OrtModelRunner(_options with { IntraOpThreads = Math.Max(1, threads) });

    public int Run(IReadOnlyList<ProbedModel> models, CalibrationSource source,
        Action<int, IReadOnlyList<IReadOnlyList<float[]>>> observe, Action<int, int>? progress = null, int? maxSamples = null)
    {
        if (models.Count == 0) throw new ArgumentException("no model to run", nameof(models));
        var sessions = new List<ProbedSession>(models.Count);
        try
        {
            for (int m = 0; m < models.Count; m++) sessions.Add(ProbedSession.Open(models[m], _options, models.Count == 1 ? "model" : $"model {m + 1} of {models.Count}"));
            var inputs = sessions[0].Inputs;
            foreach (var s in sessions.Skip(1)) CheckSameInputs(inputs, s.Inputs);

            var data = CalibrationInputs.Open(source, inputs);
            int done = 0, total = Math.Min(data.Count, maxSamples ?? int.MaxValue);
            foreach (var sample in data.Samples())
            {
                if (done == total) break;
                var perModel = new IReadOnlyList<float[]>[sessions.Count];
                for (int m = 0; m < sessions.Count; m++) perModel[m] = sessions[m].Read(sample);
                observe(done, perModel);
                done++;
                progress?.Invoke(done, total);
            }
            return done;
        }
        finally
        {
            foreach (var s in sessions) s.Dispose();
        }
    }

    private static void CheckSameInputs(IReadOnlyList<(string Name, ElementType Element, long[] Shape)> first, IReadOnlyList<(string Name, ElementType Element, long[] Shape)> other)
    {
        string Text(IReadOnlyList<(string Name, ElementType Element, long[] Shape)> inputs) =>
            string.Join(", ", inputs.Select(i => $"{i.Name}: {i.Element}[{string.Join(",", i.Shape)}]"));
        if (Text(first) != Text(other))
            throw new MirException($"the models to calibrate must take the same inputs, but one takes ({Text(first)}) and another ({Text(other)})");
    }

    /// <summary>One module's session and where each of its probes is found in a run.</summary>
    private sealed class ProbedSession : IDisposable
    {
        private readonly OrtRunner _runner;
        private readonly IReadOnlyList<string> _probeNames;
        private readonly IReadOnlyList<string> _outputs;

        private ProbedSession(OrtRunner runner, IReadOnlyList<string> probeNames)
        {
            _runner = runner;
            _probeNames = probeNames;
            Inputs = runner.Inputs.ToList();
            var inputNames = Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
            _outputs = probeNames.Where(n => !inputNames.Contains(n)).Distinct(StringComparer.Ordinal).ToList();
        }

        public IReadOnlyList<(string Name, ElementType Element, long[] Shape)> Inputs { get; }

        public static ProbedSession Open(ProbedModel model, OrtOptions options, string what)
        {
            foreach (var probe in model.Probes)
                if (probe.Type is not TensorType { Element.IsFloat: true })
                    throw new MirException($"cannot calibrate a value of type {probe.Type}: only float tensors are probed");
            var (onnx, names) = ModelProbes.WithOutputs(model.Module, model.Probes);
            return new ProbedSession(new OrtRunner(onnx, options, what), names);
        }

        /// <summary>The probes' values on one sample, in probe order; a probe of a graph input is the input itself.</summary>
        public IReadOnlyList<float[]> Read(IReadOnlyDictionary<string, NpyArray> sample)
        {
            var outputs = _outputs.Count == 0 ? new Dictionary<string, NpyArray>() : _runner.Run(sample, _outputs);
            var values = new float[_probeNames.Count][];
            for (int p = 0; p < values.Length; p++)
                values[p] = ToFloats(outputs.TryGetValue(_probeNames[p], out var a) ? a : sample[_probeNames[p]], _probeNames[p]);
            return values;
        }

        private static float[] ToFloats(NpyArray array, string name)
        {
            if (array.Element == ElementType.F32) return MemoryMarshal.Cast<byte, float>(array.Data).ToArray();
            if (!array.Element.IsFloat) throw new MirException($"tensor '{name}' came back as {array.Element}, not a float tensor");
            var result = new float[array.ElementCount];
            int size = array.Element.ByteSize;
            for (int i = 0; i < result.Length; i++) result[i] = (float)ElementCodec.ReadFloat(array.Data.AsSpan(i * size, size), array.Element);
            return result;
        }

        public void Dispose() => _runner.Dispose();
    }
}
