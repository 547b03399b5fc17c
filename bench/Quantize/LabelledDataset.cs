using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Mopt.Backend.Runtime;
using Mopt.Ir;

namespace Mopt.Bench.Quantize;

/// <summary>
/// A model trained here on a real labelled dataset, with its held-out test images and labels (top-1 against the
/// labels, not only agreement with the float model) and real training images as the calibration folder.
/// </summary>
public sealed record LabelledDataset(string CalibrationDir, IReadOnlyList<Dictionary<string, NpyArray>> Images, long[] Labels, string Info)
{
    /// <summary>
    /// Trains the digits CNN with bench/digits/train_digits_cnn.py (seeded; Debian's python3-torch and python3-sklearn)
    /// into <paramref name="dir"/> and loads what it wrote: (the float ONNX model, the dataset).
    /// </summary>
    public static (string ModelPath, LabelledDataset Dataset) TrainDigits(string root, string dir)
    {
        const string Python = "/usr/bin/python3";
        string script = Path.Combine(root, "bench", "digits", "train_digits_cnn.py");
        string outDir = Directory.CreateDirectory(Path.Combine(dir, "digits")).FullName;
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(outDir);
        using (var p = Process.Start(psi) ?? throw new BenchException($"cannot start {Python}"))
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new BenchException($"training the digits CNN failed ({script}; it needs Debian's python3-torch and python3-sklearn, " +
                                         $"which bench/run.sh quantize installs): {stderr.Trim().Split('\n').LastOrDefault()}");
            _ = stdout.Result;
        }
        var images = NpyArray.Read(Path.Combine(outDir, "eval", "images.npy"));
        var labels = NpyArray.Read(Path.Combine(outDir, "eval", "labels.npy"));
        if (images.Element != ElementType.F32 || images.Shape.Length != 4 || labels.Element != ElementType.I64 || labels.Shape[0] != images.Shape[0])
            throw new BenchException("the digits evaluation set is not float32 [N,1,8,8] images with int64 [N] labels");
        long n = images.Shape[0], per = images.ElementCount / n * 4;
        var samples = new List<Dictionary<string, NpyArray>>((int)n);
        for (long i = 0; i < n; i++)
            samples.Add(new Dictionary<string, NpyArray>(StringComparer.Ordinal)
            {
                ["image"] = new(ElementType.F32, [1, .. images.Shape[1..]], images.Data.AsSpan((int)(i * per), (int)per).ToArray()),
            });
        using var info = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "digits_cnn.json")));
        var r = info.RootElement;
        string text = $"trained here by bench/digits/train_digits_cnn.py (seed {r.GetProperty("seed").GetInt32()}, {r.GetProperty("epochs").GetInt32()} epochs, " +
                      $"torch {r.GetProperty("torch").GetString()}) on scikit-learn's 8x8 digits: {r.GetProperty("train").GetInt32()} training images, " +
                      $"{n} held-out test images with labels, {r.GetProperty("calibration").GetInt32()} training images as calibration samples";
        return (Path.Combine(outDir, "digits_cnn.onnx"),
            new LabelledDataset(Path.Combine(outDir, "calibration"), samples, MemoryMarshal.Cast<byte, long>(labels.Data).ToArray(), text));
    }
}
