using Mopt.Backend.Onnx;
using Mopt.Frontend.Onnx;
using Mopt.Ir;

namespace Mopt.Tests.Onnx;

public sealed class OnnxLargeFileTests
{
    /// <summary>The importer reads files in 1 MiB windows: tensors that straddle many windows must come back exact.</summary>
    [Fact]
    public void TensorsSpanningManyReadWindowsImportExactly()
    {
        var module = MirModule.Create("big");
        var t1 = new TensorType(ElementType.F32, [5 * 1024 * 1024 / 4 + 3]); // 5 MiB and a bit: crosses 6 windows
        var t2 = new TensorType(ElementType.I8, [777_777]);
        var f = module.AddFunction("main", [], [t1, t2]);
        var b = OpBuilder.AtEnd(f.Body);
        var bytes1 = new byte[t1.ByteSize!.Value];
        var bytes2 = new byte[t2.ByteSize!.Value];
        new Random(5).NextBytes(bytes1);
        new Random(6).NextBytes(bytes2);
        var c1 = b.ResourceConstant(module, "w1", t1, bytes1, Location.Named("w1"));
        var c2 = b.ResourceConstant(module, "w2", t2, bytes2, Location.Named("w2"));
        b.Return([c1, c2]);
        f.SetResultAttrs(0, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr("out1"))]));
        f.SetResultAttrs(1, DictionaryAttr.From([new NamedAttr("mo.name", new StringAttr("out2"))]));
        module.Op.SetAttr("onnx.opset", IntegerAttr.I64(17));

        var path = Path.Combine(Path.GetTempPath(), $"mopt-large-{Environment.ProcessId}.onnx");
        try
        {
            OnnxExporter.WriteFile(module, path);
            Assert.True(new FileInfo(path).Length > 5 << 20);
            var back = OnnxImporter.ImportFile(path);
            var blobs = back.Resources.Blobs.Select(kv => kv.Value.Data.ToArray()).OrderBy(d => d.Length).ToList();
            Assert.Equal(bytes2, blobs[0]);
            Assert.Equal(bytes1, blobs[1]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public sealed class OnnxNodeNameTests
{
    [Fact]
    public void TwoOperationsWithOneLocationNameExportAsDistinctNodes()
    {
        const string text = """
            module attributes {onnx.opset = 17 : i64} {
              func.func @main(%x: tensor<2xf32> {mo.name = "x"}) -> (tensor<2xf32> {mo.name = "y"}) {
                %0 = "onnx.Relu"(%x) : (tensor<2xf32>) -> tensor<2xf32> loc("bn")
                %1 = "onnx.Neg"(%0) : (tensor<2xf32>) -> tensor<2xf32> loc("bn")
                return %1 : tensor<2xf32>
              }
            }
            """;
        var model = OnnxExporter.ToModel(Mopt.Ir.Parsing.MirReader.ParseText(text));
        Assert.Equal(["bn", "bn_1"], model.Graph.Node.Select(n => n.Name));
        using var runner = new Mopt.Backend.Runtime.OrtRunner(Google.Protobuf.MessageExtensions.ToByteArray(model));
        Assert.Single(runner.OutputNames);
    }
}
