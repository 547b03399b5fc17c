using Mopt.Backend.Onnx;
using Mopt.Bench.ModelZoo;
using Mopt.Onnx.Proto;

namespace Mopt.Bench.Quantize;

/// <summary>One model of the benchmark: the ONNX file it starts from and how its inputs are scaled.</summary>
/// <param name="Labelled">A model trained here on a labelled dataset: evaluated on its test images against their labels, calibrated on its training images.</param>
public sealed record BenchModel(string Name, string Description, string Path, InputStyle Style, bool Real, LabelledDataset? Labelled = null);

public static class Models
{
    public static readonly string[] ZooNames = ["digits_cnn", "cnn_bn", "resnet18", "mobilenet_v2", "mlp", "digits_mlp"];
    public static readonly string[] AllZooNames = ["digits_cnn", "cnn_bn", "small_cnn", "resnet18", "mobilenet_v2", "mlp", "digits_mlp"];

    /// <summary>How the real models' inputs are scaled (from their preprocessing and test data); others get normal noise.</summary>
    private static readonly Dictionary<string, InputStyle> RealStyles = new(StringComparer.Ordinal)
    {
        ["connxr_mnist"] = InputStyle.Digits,
        ["connxr_super_resolution"] = InputStyle.Unit,
        ["ultraface_rfb_320"] = InputStyle.Centered,
    };

    /// <summary>Resolves --models: zoo models are exported into <paramref name="dir"/>; real ones are found under <paramref name="modelsDir"/>.</summary>
    public static List<BenchModel> Resolve(IReadOnlyList<string> names, string modelsDir, string dir) =>
        RealModels.Resolve(names, modelsDir, ZooNames, AllZooNames, n => Zoo(n, dir), Real, m => m.Name);

    private static BenchModel Zoo(string name, string dir)
    {
        if (name == "digits_cnn")
        {
            var (digitsPath, data) = LabelledDataset.TrainDigits(Mopt.Bench.BenchSupport.RepoRoot(), dir);
            return new BenchModel(name, $"Conv+BatchNorm CNN (3 convs with batch-norms, 2 Gemms) {data.Info}", digitsPath, InputStyle.Normal, Real: false, data);
        }
        if (name == "digits_mlp") return DigitsMlp(dir);
        var (module, what) = name switch
        {
            "cnn_bn" => (ModelZoo.Zoo.CnnWithBatchNorms(), "zoo CNN with a batch-norm after each of its 4 convs (Zoo.CnnWithBatchNorms, 1x3x64x64, 10 classes)"),
            "small_cnn" => (ModelZoo.Zoo.SmallCnn(), "zoo small CNN (Zoo.SmallCnn, 1x3x32x32, 10 classes)"),
            "resnet18" => (ModelZoo.Zoo.ResNet(), "zoo ResNet-18 (Zoo.ResNet, 1x3x224x224, 1000 classes)"),
            "mobilenet_v2" => (ModelZoo.Zoo.MobileNetV2(), "zoo MobileNetV2 (Zoo.MobileNetV2, width 1.0, 1x3x224x224, 1000 classes)"),
            // the kind of model dynamic quantization is for (ONNX Runtime: "RNNs and transformers"): Gemms on 2-D activations
            "mlp" => (ModelZoo.Zoo.MlpWithBatchNorm(batch: 8, inputs: 784, hidden: [2048, 512]),
                "zoo MLP with batch-norms (Zoo.MlpWithBatchNorm, 8x784 -> 2048 -> 512 -> 10, Softmax)"),
            _ => throw new BenchException($"no zoo model '{name}'"),
        };
        string path = System.IO.Path.Combine(dir, name + ".onnx");
        OnnxExporter.WriteFile(module, path);
        var stats = ModelStats.Of(module);
        return new BenchModel(name, $"{what}, seed 0x{ModelZoo.Zoo.DefaultSeed:X}, {stats.Parameters / 1e6:F2}M parameters, " +
                                    $"{stats.Count("BatchNormalization")} BatchNormalization", path, name == "mlp" ? InputStyle.Normal : InputStyle.ImageNet, Real: false);
    }

    /// <summary>
    /// The large MLP (64 → 1024 → 1024 → 1024 → 10, GELU, 2.2M parameters) that bench/digits/train_digits_mlp.py trains
    /// on scikit-learn's 8x8 digits (seeded; Debian's python3-torch and python3-sklearn). Its held-out test images are
    /// written as test_data_set_NNNN beside it, so it is evaluated as the real models are: on those images (top-1
    /// agreement with the float model) besides the generated ones. A random-weight MLP on noise has no such margins:
    /// 4-bit weights flip ~8% of its answers (the zoo mlp), where they flip almost none of a trained model's.
    /// </summary>
    private static BenchModel DigitsMlp(string dir)
    {
        const string Python = "/usr/bin/python3";
        string script = System.IO.Path.Combine(Mopt.Bench.BenchSupport.RepoRoot(), "bench", "digits", "train_digits_mlp.py");
        string outDir = Directory.CreateDirectory(System.IO.Path.Combine(dir, "digits_mlp")).FullName;
        var psi = new System.Diagnostics.ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(outDir);
        using (var p = System.Diagnostics.Process.Start(psi) ?? throw new BenchException($"cannot start {Python}"))
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new BenchException($"training the digits MLP failed ({script}; it needs Debian's python3-torch and python3-sklearn): " +
                                         stderr.Trim().Split('\n').LastOrDefault());
            _ = stdout.Result;
        }
        using var info = System.Text.Json.JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(outDir, "digits_mlp.json")));
        var r = info.RootElement;
        string what = $"MLP trained here by bench/digits/train_digits_mlp.py on scikit-learn's 8x8 digits (64 -> {r.GetProperty("width").GetInt32()} x " +
                      $"{r.GetProperty("depth").GetInt32()} -> 10, GELU; {r.GetProperty("parameters").GetInt64() / 1e6:F2}M parameters; seed {r.GetProperty("seed").GetInt32()}, " +
                      $"{r.GetProperty("epochs").GetInt32()} epochs, torch {r.GetProperty("torch").GetString()}; float top-1 {100 * r.GetProperty("float_top1").GetDouble():F1}% " +
                      $"on its {r.GetProperty("test").GetInt32()} held-out test images, which are its test_data_set inputs)";
        return new BenchModel("digits_mlp", what, System.IO.Path.Combine(outDir, "digits_mlp.onnx"), InputStyle.Normal, Real: true);
    }

    private static BenchModel Real(RealModelFile f)
    {
        var style = RealStyles.GetValueOrDefault(f.Name, InputStyle.Normal);
        return new BenchModel(f.Name, $"real model {f.RelativePath} (opset {f.Opset}; inputs: {style})", f.Path, style, Real: true);
    }
}
