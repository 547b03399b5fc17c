using Mopt.Onnx.Proto;

namespace Mopt.Bench;

// The real ONNX models the benchmarks run (../shared/models/onnx), shared by the deploy and quantize benchmarks.

/// <summary>A real model file: its name (its folder under the models folder) and main opset.</summary>
public sealed record RealModelFile(string Name, string Path, string RelativePath, int Opset);

public static class RealModels
{
    public const int MinOpset = 1, MaxOpset = 26; // what mopt's ONNX importer reads

    /// <summary>
    /// Every .onnx under the folder, named by its folder relative to it; those outside mopt's opsets, and those ONNX
    /// Runtime cannot load (the benchmarks compare with it: it has no opset-6 Gemm, BatchNormalization or PRelu kernel),
    /// are listed apart with the reason.
    /// </summary>
    public static (List<RealModelFile> Usable, List<(string Name, int Opset, string Why)> Skipped) Find(string modelsDir)
    {
        var usable = new List<RealModelFile>();
        var skipped = new List<(string, int, string)>();
        if (!Directory.Exists(modelsDir)) return (usable, skipped);
        foreach (var file in Directory.EnumerateFiles(modelsDir, "*.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string rel = System.IO.Path.GetRelativePath(modelsDir, System.IO.Path.GetDirectoryName(file)!);
            string name = rel == "." ? System.IO.Path.GetFileNameWithoutExtension(file) : rel.Replace('\\', '/');
            if (name.StartsWith("onnx_pytorch_converted/", StringComparison.Ordinal)) name = name["onnx_pytorch_converted/".Length..];
            int opset;
            try
            {
                var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
                opset = (int)(model.OpsetImport.FirstOrDefault(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx")?.Version ?? 0);
            }
            catch (Exception e) when (e is IOException or Google.Protobuf.InvalidProtocolBufferException)
            {
                Console.WriteLine($"note: skipping {file}: {e.Message}");
                continue;
            }
            if (opset < MinOpset || opset > MaxOpset) { skipped.Add((name, opset, $"mopt reads opsets {MinOpset}-{MaxOpset}")); continue; }
            if (OrtCannotLoad(file) is { } why) { skipped.Add((name, opset, why)); continue; }
            usable.Add(new RealModelFile(name, file, System.IO.Path.GetRelativePath(modelsDir, file), opset));
        }
        return (usable, skipped);
    }

    /// <summary>
    /// Resolves a --models list: <c>zoo</c> means <paramref name="zooDefault"/>, <c>real</c> every usable real model,
    /// a zoo name builds that model (<paramref name="zoo"/>), any other name is a real model's; each model once, in order.
    /// </summary>
    public static List<T> Resolve<T>(IReadOnlyList<string> names, string modelsDir, IReadOnlyList<string> zooDefault, IReadOnlyList<string> zooAll,
        Func<string, T> zoo, Func<RealModelFile, T> real, Func<T, string> nameOf)
    {
        var (usable, skipped) = Find(modelsDir);
        var result = new List<T>();
        void Add(T model) { if (result.All(x => nameOf(x) != nameOf(model))) result.Add(model); }
        foreach (var n in names.SelectMany(n => n == "zoo" ? zooDefault : [n]).Distinct(StringComparer.Ordinal))
        {
            if (zooAll.Contains(n)) Add(zoo(n));
            else if (n == "real")
            {
                if (!Directory.Exists(modelsDir)) Console.WriteLine($"note: no real models: '{modelsDir}' does not exist");
                foreach (var f in usable) Add(real(f));
                if (skipped.Count > 0)
                    Console.WriteLine($"skipped {skipped.Count} real model(s): " +
                                      string.Join(", ", skipped.Select(s => $"{s.Name} (opset {s.Opset}: {s.Why})")));
            }
            else if (usable.FirstOrDefault(r => r.Name == n) is { } one) Add(real(one));
            else if (skipped.FindIndex(s => s.Name == n) is int k and >= 0)
                throw new BenchException($"--models: '{n}' (opset {skipped[k].Opset}) is not benchmarked: {skipped[k].Why}");
            else
                throw new BenchException($"--models: unknown model '{n}' (zoo: {string.Join(", ", zooAll)}; real, under {modelsDir}: " +
                                         $"{(usable.Count == 0 ? "none" : string.Join(", ", usable.Select(r => r.Name)))})");
        }
        return result;
    }

    /// <summary>Why ONNX Runtime cannot load the model (its first line), or null when it can.</summary>
    private static string? OrtCannotLoad(string file)
    {
        try
        {
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(file);
            return null;
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            return "ONNX Runtime cannot load it: " + e.Message.Split('\n')[0];
        }
    }
}
