using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Mopt.Backend.Runtime;
using Mopt.Ir;

namespace Mopt.Bench.Prune;

/// <summary>
/// A net trained by bench/digits/train_digits_prune.py: its ONNX file, the regex that selects the convs to prune, its
/// held-out test images (one [1,1,16,16] sample each) and labels, and the folder holding them as mopt reads them.
/// </summary>
public sealed record DigitsNet(string Name, string Description, string ModelPath, string Params, string EvalDir,
    IReadOnlyList<NpyArray> Images, long[] Labels, double TorchTop1);

public static class DigitsNets
{
    public static readonly string[] Known = ["mobilenet", "resnet"];

    private const string Python = "/usr/bin/python3";

    /// <summary>
    /// The net trained into DIR/nets/NAME, trained now unless that folder already holds it from the same scripts (a stamp
    /// of their SHA-256 is kept beside it) and <paramref name="retrain"/> is false.
    /// </summary>
    public static DigitsNet Load(string name, string root, string dir, bool retrain)
    {
        string digits = Path.Combine(root, "bench", "digits");
        string script = Path.Combine(digits, "train_digits_prune.py");
        string outDir = Directory.CreateDirectory(Path.Combine(dir, "nets", name)).FullName;
        string stampPath = Path.Combine(outDir, "scripts.sha256");
        string stamp = Hash(script, Path.Combine(digits, "digits_common.py"));
        string model = Path.Combine(outDir, $"digits_{name}.onnx"), infoPath = Path.Combine(outDir, $"digits_{name}.json");
        bool cached = !retrain && File.Exists(model) && File.Exists(infoPath) && File.Exists(stampPath) && File.ReadAllText(stampPath) == stamp;
        if (!cached)
        {
            Console.WriteLine($"training {name} (bench/digits/train_digits_prune.py {name}; cached in {outDir} afterwards) ...");
            var clock = Stopwatch.StartNew();
            Train(script, name, outDir);
            File.WriteAllText(stampPath, stamp);
            Console.WriteLine($"  trained in {clock.Elapsed.TotalSeconds:F0} s");
        }

        using var info = JsonDocument.Parse(File.ReadAllText(infoPath));
        var r = info.RootElement;
        var (images, labels) = ReadEval(Path.Combine(outDir, "eval"));
        string kind = name == "mobilenet"
            ? "MobileNetV2-like: 3x3 stem, 5 inverted residual blocks (expand 1x1, depthwise 3x3, linear 1x1; residual Add at stride 1), 1x1 head, GAP, Linear"
            : "ResNet-like: 3x3 stem, 5 basic blocks (identity and 1x1 projection shortcuts), GAP, Linear";
        string what = $"{kind}; {r.GetProperty("parameters").GetInt64()} parameters; trained {(cached ? "earlier (cached)" : "now")} by " +
                      $"bench/digits/train_digits_prune.py on scikit-learn's digits upsampled to {r.GetProperty("size").GetInt32()}x{r.GetProperty("size").GetInt32()} " +
                      $"(seed {r.GetProperty("seed").GetInt32()}, {r.GetProperty("epochs").GetInt32()} epochs, torch {r.GetProperty("torch").GetString()}): " +
                      $"{r.GetProperty("train").GetInt32()} training, {labels.Length} held-out test images";
        // the seed's regex (PaddleSlim's MobileNetV2: the expand and linear 1x1 convs, never the depthwise ones); ResNet: every conv
        string pattern = name == "mobilenet" ? ".*(expand|linear).*weight" : ".*weight";
        return new DigitsNet(name, what, model, pattern, Path.Combine(outDir, "eval"), images, labels, r.GetProperty("float_top1").GetDouble());
    }

    private static void Train(string script, string name, string outDir)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, name, outDir }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new BenchException($"cannot start {Python}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        _ = stdout.Result;
        if (p.ExitCode != 0)
            throw new BenchException($"training {name} failed ({script}; it needs Debian's python3-torch and python3-sklearn, which " +
                                     $"bench/run.sh prune installs): {stderr.Trim().Split('\n').LastOrDefault()}");
    }

    /// <summary>eval/data/images.npy (float32 [N,1,H,W]) split into N samples of [1,1,H,W], and eval/labels.npy (int64 [N]).</summary>
    private static (List<NpyArray> Images, long[] Labels) ReadEval(string evalDir)
    {
        var images = NpyArray.Read(Path.Combine(evalDir, "data", "images.npy"));
        var labels = NpyArray.Read(Path.Combine(evalDir, "labels.npy"));
        if (images.Element != ElementType.F32 || images.Shape.Length != 4 || labels.Element != ElementType.I64 || labels.Shape[0] != images.Shape[0])
            throw new BenchException($"{evalDir}: not float32 [N,1,H,W] images with int64 [N] labels");
        long n = images.Shape[0];
        int per = (int)(images.ElementCount / n * 4);
        var samples = new List<NpyArray>((int)n);
        for (int i = 0; i < n; i++)
            samples.Add(new NpyArray(ElementType.F32, [1, .. images.Shape[1..]], images.Data.AsSpan(i * per, per).ToArray()));
        return (samples, MemoryMarshal.Cast<byte, long>(labels.Data).ToArray());
    }

    private static string Hash(params string[] files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var f in files) sha.AppendData(File.ReadAllBytes(f));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
