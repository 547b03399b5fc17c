using Mopt.Onnx.Proto;

namespace Mopt.Bench;

// The real ONNX models the benchmarks run (../shared/models/onnx), shared by the deploy and quantize benchmarks.

/// <summary>A real model file: its name (its folder under the models folder) and main opset.</summary>
public sealed record RealModelFile(string Name, string Path, string RelativePath, int Opset);

public static class RealModels
{
    public const int MinOpset = 7, MaxOpset = 21; // what mopt's ONNX importer reads

    /// <summary>Every .onnx under the folder, named by its folder relative to it; those outside mopt's opsets are listed apart.</summary>
    public static (List<RealModelFile> Usable, List<(string Name, int Opset)> Skipped) Find(string modelsDir)
    {
        var usable = new List<RealModelFile>();
        var skipped = new List<(string, int)>();
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
            if (opset < MinOpset || opset > MaxOpset) { skipped.Add((name, opset)); continue; }
            usable.Add(new RealModelFile(name, file, System.IO.Path.GetRelativePath(modelsDir, file), opset));
        }
        return (usable, skipped);
    }
}
