using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Onnx.Proto;
using static Mopt.Tests.Onnx.OnnxTestSupport;

namespace Mopt.Tests.Onnx;

/// <summary>
/// Every real model under shared/models/onnx: .onnx → .mir → .onnx must keep node count, node names and graph
/// input/output names, and give bit-identical outputs in ONNX Runtime on the model's own test data.
/// </summary>
public sealed class OnnxRealModelTests
{
    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(OnnxModels, "*.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(OnnxModels, file));
        return data;
    }

    [SharedModelsFact]
    public void EveryRealModelIsCovered()
    {
        Assert.True(Directory.EnumerateFiles(OnnxModels, "*.onnx", SearchOption.AllDirectories).Count() >= 9, $"expected the shared ONNX models under {OnnxModels}");
    }

    [SharedModelsTheory]
    [MemberData(nameof(Models))]
    public void RoundTripKeepsStructureAndNames(string relative)
    {
        var original = Path.Combine(OnnxModels, relative);
        using var tmp = new TempDir();
        var output = tmp.File("roundtrip.onnx");
        RoundTrip(original, output);

        var a = Load(original).Graph;
        var b = Load(output).Graph;
        Assert.Equal(AllNodes(a).Count(), AllNodes(b).Count());
        Assert.Equal(a.Node.Select(n => n.OpType), b.Node.Select(n => n.OpType));
        // Named nodes keep their names; unnamed ones get <OpType>_<index>.
        for (int i = 0; i < a.Node.Count; i++)
            Assert.Equal(a.Node[i].Name.Length > 0 ? a.Node[i].Name : $"{a.Node[i].OpType}_{i}", b.Node[i].Name);
        Assert.Equal(a.Output.Select(o => o.Name), b.Output.Select(o => o.Name));
        Assert.Equal(a.Input.Select(i => i.Name).Order(StringComparer.Ordinal), b.Input.Select(i => i.Name).Order(StringComparer.Ordinal));
        Assert.Equal(a.Initializer.Select(t => t.Name).Order(StringComparer.Ordinal), b.Initializer.Select(t => t.Name).Order(StringComparer.Ordinal));
        // Same tensor names on every node edge.
        for (int i = 0; i < a.Node.Count; i++)
        {
            Assert.Equal(a.Node[i].Input, b.Node[i].Input);
            Assert.Equal(a.Node[i].Output, b.Node[i].Output);
        }
        // Initializer bytes are written back byte for byte.
        var bInit = b.Initializer.ToDictionary(t => t.Name);
        foreach (var t in a.Initializer)
        {
            Assert.Equal(HostTensor.FromProto(t).Bytes, HostTensor.FromProto(bInit[t.Name]).Bytes);
            Assert.Equal(t.Dims, bInit[t.Name].Dims);
            Assert.Equal(t.DataType, bInit[t.Name].DataType);
        }
    }

    [SharedModelsTheory]
    [MemberData(nameof(Models))]
    public void RoundTripIsStableOnSecondPass(string relative)
    {
        var original = Path.Combine(OnnxModels, relative);
        using var tmp = new TempDir();
        var first = RoundTrip(original, tmp.File("one.onnx"));
        var second = RoundTrip(tmp.File("one.onnx"), tmp.File("two.onnx"));
        Assert.Equal(first, second);
        Assert.Equal(File.ReadAllBytes(tmp.File("one.onnx")), File.ReadAllBytes(tmp.File("two.onnx")));
    }

    [SharedModelsTheory]
    [MemberData(nameof(Models))]
    public void RoundTripGivesBitIdenticalOutputsInOnnxRuntime(string relative)
    {
        var original = Path.Combine(OnnxModels, relative);
        using var tmp = new TempDir();
        var output = tmp.File("roundtrip.onnx");
        RoundTrip(original, output);

        var dataSets = Directory.EnumerateDirectories(Path.GetDirectoryName(original)!, "test_data_set_*").Order(StringComparer.Ordinal).ToList();
        var inputSets = dataSets.Count > 0
            ? dataSets.Select(d => TestInputs(original, d)).ToList()
            : [SyntheticInputs(original)];

        for (int s = 0; s < inputSets.Count; s++)
        {
            List<(string Name, HostTensor Value)> expected;
            try { expected = Run(original, inputSets[s]); }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e) when (IsOldOpset(original) && e.Message.Contains("Could not find an implementation"))
            {
                // ONNX Runtime has no kernels for some opset-6 ops (it guarantees opset 7 and up): the copy fails the same way.
                var again = Assert.Throws<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => Run(output, inputSets[s]));
                Assert.Contains("Could not find an implementation", again.Message);
                return;
            }
            var actual = Run(output, inputSets[s]);
            AssertBitIdentical(expected, actual);

            // The reference output of the data set agrees with the runtime (a check on the test itself).
            if (s < dataSets.Count && File.Exists(Path.Combine(dataSets[s], "output_0.pb")))
            {
                var reference = HostTensor.FromProto(OnnxTensorReader.ParseTensorFile(Path.Combine(dataSets[s], "output_0.pb")));
                if (reference.DataType == 1 && reference.Bytes.Length == actual[0].Value.Bytes.Length)
                {
                    var scale = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(reference.Bytes).ToArray().Max(Math.Abs);
                    Assert.True(MaxAbsDiff(reference, actual[0].Value) <= 1e-3f + 1e-4f * scale, $"{relative}: output differs from the data set's reference");
                }
            }
        }
    }

    [SharedModelsTheory]
    [MemberData(nameof(Models))]
    public void ImportNamesOpsAndKeepsWeightsAsBlobs(string relative)
    {
        var path = Path.Combine(OnnxModels, relative);
        var model = Load(path);
        var module = OnnxImporter.ImportFile(path);
        Verifier.Verify(module);
        Assert.Equal("onnx", module.Op.GetString("mo.source"));
        var ops = module.MainFunction.Body.Operations;
        var nodes = ops.Where(o => o.Name != "onnx.NoValue" && o.Name != FuncOp.ReturnOpName
                                   && !(o.Name == "onnx.Constant" && o.GetAttr("mo.node") is null)).ToList();
        Assert.Equal(model.Graph.Node.Count, nodes.Count);
        for (int i = 0; i < nodes.Count; i++)
        {
            Assert.Equal("onnx." + model.Graph.Node[i].OpType, nodes[i].Name);
            Assert.Equal(model.Graph.Node[i].Output, ((ArrayAttr)nodes[i].GetAttr("mo.outputs")!).Elements.Select(e => ((StringAttr)e).Value));
        }
        var initializers = ops.Where(o => o.Name == "onnx.Constant" && o.GetAttr("mo.node") is null).ToList();
        Assert.Equal(model.Graph.Initializer.Select(t => t.Name), initializers.Select(o => o.Location.FirstName));
        foreach (var c in initializers)
        {
            var res = Assert.IsType<DenseResourceAttr>(c.GetAttr("value"));
            Assert.Equal(res.Type.ByteSize, module.Resources[res.Key].Data.Length);
        }
    }

    [SharedModelsFact]
    public void OldOpsetModelsAreReadByDefaultAndKeepTheirOpset()
    {
        var files = Directory.EnumerateFiles(Path.Combine(OnnxModels, "onnx_pytorch_converted"), "model.onnx", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var module = OnnxImporter.ImportFile(file);
            Assert.Equal(6L, module.Op.GetInt("onnx.opset"));
            var written = Mopt.Backend.Onnx.OnnxExporter.ToModel(module);
            Assert.Equal(6L, written.OpsetImport.Single(o => o.Domain.Length == 0).Version);
        }
    }

    private static bool IsOldOpset(string path) => Load(path).OpsetImport.Any(o => o.Domain.Length == 0 && o.Version < 7);

    /// <summary>Deterministic inputs for models without a test data set (UltraFace): the input shape, values in [-1, 1).</summary>
    private static List<(string Name, HostTensor Value)> SyntheticInputs(string path)
    {
        var model = Load(path);
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet();
        var list = new List<(string, HostTensor)>();
        var random = new Random(1234);
        foreach (var vi in model.Graph.Input.Where(i => !initializers.Contains(i.Name)))
        {
            var dims = vi.Type.TensorType.Shape.Dim.Select(d => d.DimValue > 0 ? d.DimValue : 1L).ToArray();
            var values = new float[dims.Aggregate(1L, (x, y) => x * y)];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            list.Add((vi.Name, HostTensor.Floats(dims, values)));
        }
        return list;
    }
}
