using System.Globalization;
using System.Text;
using Mopt.Backend.Runtime;
using Mopt.Frontend;
using Mopt.Ir;

namespace Mopt.Api;

/// <summary>
/// <c>--verify-against=ORIGINAL</c>: runs the original model and the result in ONNX Runtime on the same inputs
/// and compares, per output, max abs diff, max relative diff and top-1 agreement.
/// </summary>
internal static class Verification
{
    /// <summary>Compares <paramref name="result"/> with the model at <paramref name="originalPath"/>, read by <paramref name="reader"/> (null: by its extension).</summary>
    public static VerificationResult Run(MirModule result, string originalPath, IModelReader? reader, VerifyOptions options)
    {
        using var original = OpenOriginal(originalPath, reader);
        return Compare(result, original, originalPath, options);
    }

    /// <summary>Compares <paramref name="result"/> with <paramref name="original"/>, named <paramref name="originalName"/> in the report.</summary>
    public static VerificationResult Run(MirModule result, MirModule original, string originalName, VerifyOptions options)
    {
        using var runner = new OrtRunner(ModelProbes.ToOnnxBytes(LoweredToOnnx(original, clone: true)), what: "original model");
        return Compare(result, runner, originalName, options);
    }

    private static VerificationResult Compare(MirModule result, OrtRunner original, string originalName, VerifyOptions options)
    {
        using var rewritten = new OrtRunner(ModelProbes.ToOnnxBytes(LoweredToOnnx(result, clone: true)), what: "rewritten model");
        var inputs = options.InputsDir is { } dir ? ReadInputs(dir, original) : RandomInputs.For(original.Inputs, options.Seed);
        var expected = original.Run(inputs);
        var actual = rewritten.Run(inputs);

        var inputsText = options.InputsDir ?? $"random inputs (seed {options.Seed})";
        var report = new StringBuilder();
        report.AppendLine($"verify: {originalName} vs the result, on {inputsText}");
        report.AppendLine("  output                          max abs diff   max rel diff   top-1 agreement");
        var outputs = new List<OutputComparison>();
        for (int i = 0; i < original.OutputNames.Count; i++)
        {
            var name = original.OutputNames[i];
            // Outputs keep their names through mopt; fall back to position if a pass renamed one.
            var actualName = actual.ContainsKey(name) ? name : rewritten.OutputNames.ElementAtOrDefault(i);
            if (actualName is null)
            {
                report.AppendLine($"  {name,-30}  missing from the result");
                outputs.Add(new OutputComparison(name, double.PositiveInfinity, double.PositiveInfinity, null, false, expected[name].Shape, null, Missing: true, Passed: false));
                continue;
            }
            var diff = OutputDifference.Compare(name, expected[name], actual[actualName]);
            var top1 = diff.Top1Agreement is double t ? string.Create(CultureInfo.InvariantCulture, $"{t * 100:F1}%") : "-";
            if (!diff.ShapesMatch)
                report.AppendLine($"  {name,-30}  shape {string.Join('x', expected[name].Shape)} became {string.Join('x', actual[actualName].Shape)}");
            else
                report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-30}  {diff.MaxAbsDiff,12:0.000e+00}   {diff.MaxRelDiff,12:0.000e+00}   {top1,15}"));
            bool passed = diff.ShapesMatch && diff.MaxRelDiff <= options.Tolerance;
            outputs.Add(new OutputComparison(name, diff.MaxAbsDiff, diff.MaxRelDiff, diff.Top1Agreement, diff.ShapesMatch,
                expected[name].Shape, actual[actualName].Shape, Missing: false, passed));
        }
        bool ok = outputs.All(o => o.Passed);
        report.AppendLine(ok
            ? string.Create(CultureInfo.InvariantCulture, $"verify: passed (max relative diff within {options.Tolerance:G})")
            : string.Create(CultureInfo.InvariantCulture, $"verify: FAILED: an output differs by more than the tolerance {options.Tolerance:G} (--verify-tolerance)"));
        return new VerificationResult(originalName, inputsText, options.Tolerance, outputs, ok, report.ToString());
    }

    private static OrtRunner OpenOriginal(string path, IModelReader? reader)
    {
        if (FileNames.HasExtension(path, ".onnx"))
        {
            if (!File.Exists(path)) throw new MirException($"--verify-against: '{path}' not found");
            return new OrtRunner(path);
        }
        var module = (reader ?? ModelReaders.For(path)).Read(path);
        return new OrtRunner(ModelProbes.ToOnnxBytes(LoweredToOnnx(module, clone: false)), what: "original model");
    }

    /// <summary>A TensorFlow or Caffe module runs as its ONNX lowering (on a copy when the caller keeps the module).</summary>
    private static MirModule LoweredToOnnx(MirModule module, bool clone)
    {
        var pm = new Mopt.Passes.PassManager();
        pm.Passes.AddRange(Mopt.Passes.Conversion.OnnxLowerings.Needed(module));
        if (pm.Passes.Count == 0) return module;
        var target = clone ? module.Clone(new Dictionary<Value, Value>()) : module;
        pm.Run(target);
        return target;
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

    private static string SafeFileName(string tensorName) =>
        string.Concat(tensorName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_'));
}
