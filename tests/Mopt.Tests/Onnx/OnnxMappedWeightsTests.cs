using System.Security.Cryptography;
using Google.Protobuf;
using Mopt.Backend.Onnx;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Ir.Printing;
using Mopt.Onnx.Proto;
using Mopt.Tools.Opt;
using static Mopt.Tests.Onnx.OnnxTestSupport;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Tests.Onnx;

/// <summary>
/// Weights read from a file stay the file's mapped pages (MappedFile): raw_data inside the .onnx and external data
/// alike. Checked: they are mapped, the module is the one a plain parse gives, passes and writers give the right
/// model from them, and the input files are never written through the mapping.
/// </summary>
public sealed class OnnxMappedWeightsTests
{
    private const int Width = 64;

    /// <summary>Gemm (64x64 weight, transB) + BatchNormalization + Relu on [2, 64]; seeded values.</summary>
    private static ModelProto GemmBnModel()
    {
        var random = new Random(11);
        float[] Values(int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => lo + (float)random.NextDouble() * (hi - lo)).ToArray();
        // raw_data, as exporters write weights (FloatTensor's)
        var inits = new[]
        {
            FloatTensor("w", [Width, Width], Values(Width * Width, -0.2f, 0.2f)),
            FloatTensor("b", [Width], Values(Width, -0.1f, 0.1f)),
            FloatTensor("gamma", [Width], Values(Width, 0.5f, 1.5f)),
            FloatTensor("beta", [Width], Values(Width, -0.1f, 0.1f)),
            FloatTensor("mean", [Width], Values(Width, -0.1f, 0.1f)),
            FloatTensor("var", [Width], Values(Width, 0.5f, 1.5f)),
        };
        var graph = Graph("g",
            [
                Node("Gemm", ["x", "w", "b"], ["y"], "gemm", attributes: IntAttr("transB", 1)),
                Node("BatchNormalization", ["y", "gamma", "beta", "mean", "var"], ["z"], "bn"),
                Node("Relu", ["z"], ["out"], "relu"),
            ],
            [Vi("x", DataType.Float, 2, Width)], [Vi("out", DataType.Float, 2, Width)], inits);
        return Model(graph);
    }

    private static List<(string Name, HostTensor Value)> Input()
    {
        var random = new Random(3);
        return [("x", HostTensor.Floats([2, Width], Enumerable.Range(0, 2 * Width).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray()))];
    }

    /// <summary>The model inline (source.onnx) and written by mopt with every tensor of 64 bytes or more in NAME.data.</summary>
    private static (string Source, string External) WithExternalData(TempDir tmp, string name)
    {
        var source = tmp.File("source.onnx");
        Save(GemmBnModel(), source);
        var path = tmp.File(name);
        OnnxExporter.WriteFile(OnnxImporter.ImportFile(source), path, new OnnxExportOptions { ExternalData = ExternalDataMode.Always, ExternalMinBytes = 64 });
        return (source, path);
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private static void AssertClose(IReadOnlyList<(string Name, HostTensor Value)> expected, IReadOnlyList<(string Name, HostTensor Value)> actual, float tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.InRange(MaxAbsDiff(expected[i].Value, actual[i].Value), 0, tolerance);
    }

    [Fact]
    public void InlineRawDataOfInitializersIsMappedAndTheModuleIsThatOfAPlainParse()
    {
        using var tmp = new TempDir();
        var path = tmp.File("m.onnx");
        Save(GemmBnModel(), path);

        var mapped = OnnxImporter.ImportFile(path);
        var plain = Import(OnnxImporter.Parse(File.ReadAllBytes(path), path), tmp.Path);
        var weight = mapped.Resources.Blobs.Single(kv => kv.Value.Data.Length == Width * Width * 4).Value.Data;
        Assert.True(MappedMemory.IsMapped(weight), "the 16 KiB weight is the file's pages");
        // small tensors (under OnnxFileSkeleton.MinMappedBytes) are parsed as usual
        Assert.All(mapped.Resources.Blobs.Where(kv => kv.Value.Data.Length < 4096), kv => Assert.False(MappedMemory.IsMapped(kv.Value.Data)));
        Assert.Equal(MirPrinter.PrintToString(plain), MirPrinter.PrintToString(mapped));
    }

    [Fact]
    public void ExternalDataIsMappedRoundTripsAndFoldsWithoutTouchingTheInput()
    {
        using var tmp = new TempDir();
        var (source, path) = WithExternalData(tmp, "ext.onnx");
        var expected = Run(source, Input());
        Assert.True(File.Exists(path + ".data"));
        string modelHash = Hash(path), dataHash = Hash(path + ".data");

        var module = OnnxImporter.ImportFile(path);
        Assert.All(module.Resources.Blobs.Where(kv => kv.Value.Data.Length >= 64), kv => Assert.True(MappedMemory.IsMapped(kv.Value.Data), kv.Key));

        // round trip, and --pipeline=deploy (fold-bn rewrites the mapped weight into a new one)
        var stderr = new StringWriter();
        Assert.Equal(0, OptTool.Run([path, "-o", tmp.File("rt.onnx")], new StringWriter(), stderr));
        Assert.Equal(0, OptTool.Run([path, "--pipeline=deploy", "-o", tmp.File("dep.onnx")], new StringWriter(), stderr));
        Assert.Equal("", stderr.ToString());
        AssertBitIdentical(expected, Run(tmp.File("rt.onnx"), Input()));
        AssertClose(expected, Run(tmp.File("dep.onnx"), Input()), 1e-5f);
        Assert.DoesNotContain(Load(tmp.File("dep.onnx")).Graph.Node, n => n.OpType == "BatchNormalization");
        Assert.Equal(modelHash, Hash(path));
        Assert.Equal(dataHash, Hash(path + ".data"));
    }

    [Fact]
    public void WritingOverTheMappedInputAndItsDataFileGivesTheSameModel()
    {
        using var tmp = new TempDir();
        var (source, path) = WithExternalData(tmp, "m.onnx");
        var expected = Run(source, Input());

        // m.onnx.data is read through the mapping while m.onnx.data is written: a temporary file, then a rename
        var stderr = new StringWriter();
        Assert.Equal(0, OptTool.Run([path, "--pipeline=deploy", "-o", path], new StringWriter(), stderr));
        Assert.Equal("", stderr.ToString());
        AssertClose(expected, Run(path, Input()), 1e-5f);
        Assert.Equal(0, OptTool.Run([source, "-o", source], new StringWriter(), stderr));
        AssertBitIdentical(expected, Run(source, Input()));
    }

    [Fact]
    public void QuantizeWeightsReadsMappedWeights()
    {
        using var tmp = new TempDir();
        var path = tmp.File("m.onnx");
        Save(GemmBnModel(), path);
        var expected = Run(path, Input());
        var stderr = new StringWriter();
        Assert.Equal(0, OptTool.Run([path, "--quantize-weights=min-size=1024", "-o", tmp.File("q.onnx")], new StringWriter(), stderr));
        var q = Load(tmp.File("q.onnx"));
        Assert.Contains(q.Graph.Node, n => n.OpType == "DequantizeLinear");
        // int8 per channel: within a few hundredths of the float outputs (values are O(1))
        AssertClose(expected, Run(tmp.File("q.onnx"), Input()), 0.05f);
    }

    /// <summary>Every real ONNX model imports to the same module through the mapped skeleton as through a plain parse.</summary>
    [SharedModelsFact]
    public void RealModelsImportAlikeMappedAndParsed()
    {
        int compared = 0;
        foreach (var path in Directory.EnumerateFiles(OnnxModels, "*.onnx", SearchOption.AllDirectories).Order())
        {
            var bytes = File.ReadAllBytes(path);
            var parsed = OnnxImporter.Parse(bytes, path);
            var options = parsed.OpsetImport.Any(o => o.Domain.Length == 0 && o.Version < 7) ? new OnnxImportOptions { MinOpset = 1 } : null;
            var mapped = OnnxImporter.ImportFile(path, options);
            var plain = OnnxImporter.Import(parsed, Path.GetDirectoryName(path), path, options);
            Assert.Equal(MirPrinter.PrintToString(plain), MirPrinter.PrintToString(mapped));
            compared++;
        }
        Assert.True(compared >= 5, $"only {compared} models");
    }

    /// <summary>onnx's save_model(all_tensors_to_one_file=False): a file per tensor. Mapped, they hold no open descriptors.</summary>
    [Fact]
    public void AFilePerTensorKeepsNoFileOpen()
    {
        using var tmp = new TempDir();
        const int n = 300;
        var nodes = new List<NodeProto>();
        var inits = new List<TensorProto>();
        string x = "x";
        for (int i = 0; i < n; i++)
        {
            var values = Enumerable.Range(0, 1024).Select(k => (float)((k + i) % 7) / 7).ToArray();
            File.WriteAllBytes(tmp.File($"t{i}.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            var t = new TensorProto { Name = $"t{i}", DataType = (int)DataType.Float, Dims = { 1024 }, DataLocation = TensorProto.Types.DataLocation.External };
            t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = $"t{i}.bin" });
            inits.Add(t);
            nodes.Add(Node("Add", [x, t.Name], [$"a{i}"], $"add{i}"));
            x = $"a{i}";
        }
        var path = tmp.File("many.onnx");
        Save(Model(Graph("g", nodes, [Vi("x", DataType.Float, 1024)], [Vi(x, DataType.Float, 1024)], inits)), path);
        int before = Directory.GetFiles("/proc/self/fd").Length;
        var module = OnnxImporter.ImportFile(path);
        Assert.InRange(Directory.GetFiles("/proc/self/fd").Length - before, int.MinValue, 10);
        Assert.All(module.Resources.Blobs, kv => Assert.True(MappedMemory.IsMapped(kv.Value.Data)));
        // the bytes read back through the mappings, the descriptors closed
        var last = module.Resources.Blobs.Last().Value.Data;
        Assert.Equal(File.ReadAllBytes(tmp.File($"t{n - 1}.bin")), last.ToArray());
    }
}
