using System.Globalization;
using Mopt.Backend.Runtime;
using Mopt.Frontend;
using Mopt.Ir;

namespace Mopt.Tools.Opt;

/// <summary>
/// <c>--verify-against=ORIGINAL</c>: runs the original model and the result in ONNX Runtime on the same inputs
/// and reports, per output, max abs diff, max relative diff and top-1 agreement.
/// </summary>
public static class Verification
{
    /// <param name="Reader">how to read the original when it is not an .onnx file (null: by its extension, with no options)</param>
    public sealed record Settings(string Original, double Tolerance, string? InputsDir, int Seed, IModelReader? Reader = null);

    /// <summary>Prints the report; returns false when an output differs by more than the tolerance.</summary>
    public static bool Run(MirModule result, Settings settings, TextWriter report)
    {
        using var original = OpenOriginal(settings.Original, settings.Reader);
        using var rewritten = new OrtRunner(ModelProbes.ToOnnxBytes(result), what: "rewritten model");

        var inputs = settings.InputsDir is { } dir ? ReadInputs(dir, original) : RandomInputs.For(original.Inputs, settings.Seed);
        var expected = original.Run(inputs);
        var actual = rewritten.Run(inputs);

        report.WriteLine($"verify: {settings.Original} vs the result, on {(settings.InputsDir is null ? $"random inputs (seed {settings.Seed})" : settings.InputsDir)}");
        report.WriteLine("  output                          max abs diff   max rel diff   top-1 agreement");
        bool ok = true;
        for (int i = 0; i < original.OutputNames.Count; i++)
        {
            var name = original.OutputNames[i];
            // Outputs keep their names through mopt; fall back to position if a pass renamed one.
            var actualName = actual.ContainsKey(name) ? name : rewritten.OutputNames.ElementAtOrDefault(i);
            if (actualName is null) { report.WriteLine($"  {name,-30}  missing from the result"); ok = false; continue; }
            var diff = OutputDifference.Compare(name, expected[name], actual[actualName]);
            var top1 = diff.Top1Agreement is double t ? string.Create(CultureInfo.InvariantCulture, $"{t * 100:F1}%") : "-";
            if (!diff.ShapesMatch)
                report.WriteLine($"  {name,-30}  shape {string.Join('x', expected[name].Shape)} became {string.Join('x', actual[actualName].Shape)}");
            else
                report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-30}  {diff.MaxAbsDiff,12:0.000e+00}   {diff.MaxRelDiff,12:0.000e+00}   {top1,15}"));
            if (!diff.ShapesMatch || !(diff.MaxRelDiff <= settings.Tolerance)) ok = false;
        }
        report.WriteLine(ok
            ? string.Create(CultureInfo.InvariantCulture, $"verify: passed (max relative diff within {settings.Tolerance:G})")
            : string.Create(CultureInfo.InvariantCulture, $"verify: FAILED: an output differs by more than the tolerance {settings.Tolerance:G} (--verify-tolerance)"));
        return ok;
    }

    private static OrtRunner OpenOriginal(string path, IModelReader? reader)
    {
        if (Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(path)) throw new MirException($"--verify-against: '{path}' not found");
            return new OrtRunner(path);
        }
        var module = (reader ?? ModelReaders.For(path)).Read(path);
        // A TensorFlow or Caffe original runs as its ONNX lowering.
        var pm = new Mopt.Passes.PassManager();
        pm.Passes.AddRange(Mopt.Passes.Conversion.OnnxLowerings.Needed(module));
        if (pm.Passes.Count > 0) pm.Run(module);
        return new OrtRunner(ModelProbes.ToOnnxBytes(module), what: "original model");
    }

    /// <summary>One .npy per input, named after the input (<c>input.npy</c>) or by position (<c>input_0.npy</c>).</summary>
    private static Dictionary<string, NpyArray> ReadInputs(string dir, OrtRunner model)
    {
        if (!Directory.Exists(dir)) throw new MirException($"--verify-inputs: folder '{dir}' not found");
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        int index = 0;
        foreach (var (name, element, shape) in model.Inputs)
        {
            var candidates = new[] { Path.Combine(dir, SafeFileName(name) + ".npy"), Path.Combine(dir, $"input_{index}.npy") };
            var file = candidates.FirstOrDefault(File.Exists)
                ?? throw new MirException($"--verify-inputs: no {Path.GetFileName(candidates[0])} or {Path.GetFileName(candidates[1])} in '{dir}' for input '{name}'");
            var array = NpyArray.Read(file);
            if (array.Element != element) throw new MirException($"{file}: holds {array.Element} but input '{name}' is {element}");
            if (array.Shape.Length != shape.Length || array.Shape.Where((d, i) => shape[i] >= 0 && shape[i] != d).Any())
                throw new MirException($"{file}: shape ({string.Join(", ", array.Shape)}) does not fit input '{name}' ({string.Join(", ", shape.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)))})");
            result[name] = array;
            index++;
        }
        return result;
    }

    public static string SafeFileName(string tensorName) =>
        string.Concat(tensorName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_'));
}
