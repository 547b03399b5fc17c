using Mopt.Backend.Onnx;
using Mopt.Bench.ModelZoo;
using Mopt.Ir;
using Mopt.Onnx.Proto;

namespace Mopt.Bench.DeployCompare;

/// <summary>One model of the benchmark: an ONNX file to optimize.</summary>
public sealed record BenchModel(string Name, string Description, string Path);

/// <summary>What a graph holds: counted from its ModelProto.</summary>
public sealed record GraphStats(int Nodes, IReadOnlyDictionary<string, int> NodesByType, int Initializers, long WeightBytes, long FileBytes, int Opset)
{
    public int Count(string opType) => NodesByType.TryGetValue(opType, out var n) ? n : 0;

    public string Histogram() => string.Join(", ", NodesByType.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
        .Select(kv => $"{kv.Value} {kv.Key}"));

    public static GraphStats Of(string path)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var byType = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in model.Graph.Node)
        {
            string key = string.IsNullOrEmpty(n.Domain) || n.Domain == "ai.onnx" ? n.OpType : $"{n.Domain}.{n.OpType}";
            byType[key] = byType.GetValueOrDefault(key) + 1;
        }
        long weights = model.Graph.Initializer.Sum(t => (long)t.CalculateSize());
        int opset = (int)(model.OpsetImport.FirstOrDefault(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx")?.Version ?? 0);
        return new GraphStats(model.Graph.Node.Count, byType, model.Graph.Initializer.Count, weights, new FileInfo(path).Length, opset);
    }
}

public static class Models
{
    public static readonly string[] ZooNames = ["resnet18", "mobilenet_v2", "densenet121", "mlp_bn"];
    public static readonly string[] AllZooNames = ["resnet18", "mobilenet_v2", "densenet121", "mlp_bn", "small_cnn"];

    /// <summary>Resolves the --models list: zoo models are exported into <paramref name="dir"/>; real ones are found under <paramref name="modelsDir"/>.</summary>
    public static List<BenchModel> Resolve(IReadOnlyList<string> names, string modelsDir, string dir) =>
        RealModels.Resolve(names, modelsDir, ZooNames, AllZooNames, n => Zoo(n, dir), Real, m => m.Name);

    private static BenchModel Zoo(string name, string dir)
    {
        var (module, what) = name switch
        {
            "resnet18" => (ModelZoo.Zoo.ResNet(), "zoo ResNet-18 (Zoo.ResNet, basic blocks 2,2,2,2)"),
            "mobilenet_v2" => (ModelZoo.Zoo.MobileNetV2(), "zoo MobileNetV2 (Zoo.MobileNetV2, width 1.0; depthwise convs, Clip as ReLU6)"),
            "densenet121" => (ModelZoo.Zoo.DenseNet(), "zoo DenseNet-121 (Zoo.DenseNet, blocks 6,12,24,16; Concat + BatchNormalization + Relu + Conv)"),
            "mlp_bn" => (ModelZoo.Zoo.MlpWithBatchNorm(batch: 32), "zoo MLP (Zoo.MlpWithBatchNorm, batch 32; Gemm + BatchNormalization + Relu)"),
            "small_cnn" => (ModelZoo.Zoo.SmallCnn(), "zoo small CNN (Zoo.SmallCnn)"),
            _ => throw new BenchException($"no zoo model '{name}'"),
        };
        string path = System.IO.Path.Combine(dir, name + ".onnx");
        OnnxExporter.WriteFile(module, path);
        var stats = ModelStats.Of(module);
        return new BenchModel(name, $"{what}, seed 0x{ModelZoo.Zoo.DefaultSeed:X}, {stats.Parameters / 1e6:F2}M parameters; exported by OnnxExporter", path);
    }

    private static BenchModel Real(RealModelFile f) => new(f.Name, $"real model {f.RelativePath} (opset {f.Opset})", f.Path);
}
