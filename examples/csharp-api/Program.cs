// mopt from C#: for each model, deploy it (fold, fuse, clean up) and quantize it to int8, check each result against
// the original in ONNX Runtime, save it, and read the saved file back. Exit status 1 when anything fails.
//
//   dotnet run -- [MODELS_DIR] [OUTPUT_DIR]     (default: ../shared/models/onnx and artifacts/csharp-api, from the repository root)
using System.Globalization;
using Mopt.Api;
using Mopt.Ir;
using Mopt.Passes;

var modelsDir = args.Length > 0 ? args[0] : "../shared/models/onnx";
var outputDir = args.Length > 1 ? args[1] : "artifacts/csharp-api";
Directory.CreateDirectory(outputDir);

// The models, and how far int8 may move their outputs (relative to the largest output value): random calibration
// inputs are a rough guess at real ones, so int8 is held to a loose bound; deploy is held to float rounding.
(string File, double Int8Tolerance)[] models =
[
    ("connxr_mnist/model.onnx", 0.05),
    ("ultraface_rfb_320/version-RFB-320.onnx", 0.05),
];
const double DeployTolerance = 1e-4;

bool allPassed = true;
foreach (var (file, int8Tolerance) in models)
{
    var path = Path.Combine(modelsDir, file);
    var name = Path.GetFileNameWithoutExtension(file) == "model" ? Path.GetDirectoryName(file)! : Path.GetFileNameWithoutExtension(file);
    try
    {
        var original = Model.Load(path);
        var summary = original.Summarize();
        Console.WriteLine($"{file}: {Describe(original.Inputs)} -> {Describe(original.Outputs)}; {summary.ComputeOperations} ops, " +
            $"{summary.ParameterTotal.ToString("N0", CultureInfo.InvariantCulture)} parameters");

        // deploy: the model's own clone, so that the original stays as loaded for the int8 run
        var deployed = original.Clone();
        deployed.RunNamedPipeline("deploy");
        allPassed &= Check("deploy", deployed, path, DeployTolerance, Path.Combine(outputDir, $"{name}.deploy.onnx"));

        // int8: static quantization in QDQ form, calibrated on 8 random inputs, after deploy
        var int8 = original.Clone();
        int8.Run(Pipeline.Named("deploy").Then(Pipeline.ForPass("quantize-int8", "calibration=random:8")));
        allPassed &= Check("int8", int8, path, int8Tolerance, Path.Combine(outputDir, $"{name}.int8.onnx"));
    }
    catch (MirException e)
    {
        // bad input: file:line:col: error: ..., or the node's name in a binary model
        Console.WriteLine(e.Format());
        allPassed = false;
    }
    catch (PipelineException e)
    {
        Console.WriteLine($"error: {e.Message}");
        allPassed = false;
    }
}
Console.WriteLine(allPassed ? "all passed" : "FAILED");
return allPassed ? 0 : 1;

// Verifies a result against the original, saves it, reads the saved file back and compares the op counts.
static bool Check(string what, Model result, string originalPath, double tolerance, string output)
{
    var verification = result.VerifyAgainst(originalPath, new VerifyOptions { Tolerance = tolerance });
    var ops = result.OpHistogram();
    Console.WriteLine($"  {what}: {ops.Where(c => c.Op != "onnx.Constant").Sum(c => c.Count)} ops " +
        $"({string.Join(", ", ops.Where(c => c.Op != "onnx.Constant").Take(4).Select(c => $"{c.Count} {c.Op}"))}, ...)");
    foreach (var o in verification.Outputs)
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    verify {o.Name}: max abs diff {o.MaxAbsDiff:0.000e+00}, max rel diff {o.MaxRelDiff:0.000e+00}, top-1 {(o.Top1Agreement is double t ? $"{t * 100:F1}%" : "-")}: {(o.Passed ? "ok" : "FAILED")}"));
    result.Save(output);
    var reloaded = Model.Load(output);
    bool same = reloaded.OpHistogram().SequenceEqual(ops);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"    {(verification.Passed ? "passed" : "FAILED")} (tolerance {tolerance:G}); saved {output} ({new FileInfo(output).Length} bytes), reloaded: {(same ? "same ops" : "DIFFERENT ops")}"));
    return verification.Passed && same;
}

static string Describe(IReadOnlyList<TensorInfo> tensors) =>
    string.Join(", ", tensors.Select(t => $"{t.Name} {(t.Shape is null ? "?" : string.Join("x", t.Shape.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))))} {t.ElementType}"));
