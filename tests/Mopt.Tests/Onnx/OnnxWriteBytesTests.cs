using Google.Protobuf;
using Mopt.Backend.Onnx;
using Mopt.Bench.ModelZoo;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Onnx.Proto;
using Mopt.Tests.Caffe;
using Mopt.Tests.Paddle;
using Mopt.Tests.Tf;
using static Mopt.Tests.Onnx.OnnxTestSupport;

namespace Mopt.Tests.Onnx;

/// <summary>
/// What <see cref="OnnxExporter.Write"/> puts in a file (the model written straight from its parts, OnnxModelMessage)
/// is byte for byte the assembled <see cref="OnnxExporter.ToModel(MirModule)"/> serialized by protobuf: the main graph's
/// nodes and their attributes go to the wire straight from the IR (OnnxWireNodes), ToModel's are NodeProto objects.
/// </summary>
public sealed class OnnxWriteBytesTests
{
    private static void AssertSameBytes(MirModule module, string what)
    {
        var expected = OnnxExporter.ToModel(module).ToByteArray();
        using var stream = new MemoryStream();
        OnnxExporter.Write(module, stream, "/nonexistent/model.onnx");
        Assert.True(expected.AsSpan().SequenceEqual(stream.ToArray()), $"{what}: written bytes differ from ToModel's ({stream.Length} vs {expected.Length})");
    }

    [Fact]
    public void EveryExportableLitModuleIsWrittenAsToModelSerializesIt()
    {
        int written = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot(), "tests", "lit"), "*.mir", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            MirModule module;
            try
            {
                module = MirReader.ParseText(File.ReadAllText(file), file);
                OnnxExporter.ToModel(module);
            }
            catch (MirException) { continue; } // not a module ONNX can hold (another dialect, a bad-input test)
            AssertSameBytes(module, file);
            written++;
        }
        Assert.True(written >= 20, $"only {written} lit modules could be written as ONNX");
    }

    [SharedModelsTheory]
    [MemberData(nameof(OnnxRealModelTests.Models), MemberType = typeof(OnnxRealModelTests))]
    public void RealModelsAreWrittenAsToModelSerializesThem(string relative)
    {
        var path = Path.Combine(OnnxModels, relative);
        AssertSameBytes(OnnxImporter.ImportFile(path), relative);
    }

    /// <summary>Every attribute kind the wire writer spells itself, and the nodes it leaves to NodeProto, in one main graph.</summary>
    [Fact]
    public void EveryAttributeKindIsWrittenAsToModelSerializesIt()
    {
        var module = MirReader.ParseText("""
            module @kinds attributes {onnx.opset = 17 : i64} {
              func.func @main(%x: tensor<2x3xf32> {mo.name = "x"}, %c: tensor<i1> {mo.name = "c"}) -> (tensor<2x3xf32> {mo.name = "y"}, tensor<2x3xf32> {mo.name = "x_again"}, tensor<2x3xf32> {mo.name = "z"}) {
                %0 = "onnx.LeakyRelu"(%x) {alpha = 0.25 : f32, mo.outputs = ["leaky"], onnx.doc_string = "a doc", onnx.overload = "ov"} : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("leaky")
                %1 = "onnx.Custom.Op"(%0) {b = true, empty = [], f = -1.5 : f32, floats = [1.0 : f32, 2 : i64, false], i = -7 : i64, ints = [1 : i64, -300000 : i64, true], packed = array<i64: 4, 5>, s = "café", zero = 0.0 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("custom")
                %2 = "onnx.Cast"(%1) {strings = ["a", "b"], to = 1 : i64, value = dense<[1.0, 2.0]> : tensor<2xf32>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
                %3 = "onnx.If"(%c) ({
                  %t = "onnx.Relu"(%2) {mo.outputs = ["then_out"]} : (tensor<2x3xf32>) -> tensor<2x3xf32>
                  "mo.yield"(%t) : (tensor<2x3xf32>) -> ()
                }, {
                  %e = "onnx.Neg"(%2) {mo.outputs = ["else_out"]} : (tensor<2x3xf32>) -> tensor<2x3xf32>
                  "mo.yield"(%e) : (tensor<2x3xf32>) -> ()
                }) {mo.regions = ["then_branch", "else_branch"]} : (tensor<i1>) -> tensor<2x3xf32> loc("if")
                %4 = "onnx.Sigmoid"(%3) {onnx.metadata_props = {k = "v"}} : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("meta")
                return %4, %x, %4 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
              }
            }
            """);
        AssertSameBytes(module, "every attribute kind");
        using var stream = new MemoryStream();
        OnnxExporter.Write(module, stream, "/nonexistent/model.onnx");
        var model = ModelProto.Parser.ParseFrom(stream.ToArray());
        // What the module says is what the file holds (not only what ToModel holds).
        Assert.Equal(["LeakyRelu", "Op", "Cast", "If", "Sigmoid", "Identity", "Identity"], model.Graph.Node.Select(n => n.OpType));
        var custom = model.Graph.Node[1];
        Assert.Equal("Custom", custom.Domain);
        Assert.Equal(["b", "empty", "f", "floats", "i", "ints", "packed", "s", "zero"], custom.Attribute.Select(a => a.Name));
        Assert.Equal(1, custom.Attribute[0].I);
        Assert.Equal(AttributeProto.Types.AttributeType.Ints, custom.Attribute[1].Type);
        Assert.Equal(-1.5f, custom.Attribute[2].F);
        Assert.Equal([1f, 2f, 0f], custom.Attribute[3].Floats);
        Assert.Equal(-7, custom.Attribute[4].I);
        Assert.Equal([1L, -300000L, 1L], custom.Attribute[5].Ints);
        Assert.Equal([4L, 5L], custom.Attribute[6].Ints);
        Assert.Equal("café", custom.Attribute[7].S.ToStringUtf8());
        Assert.True(custom.Attribute[8].HasF);
        Assert.Equal("a doc", model.Graph.Node[0].DocString);
        Assert.Equal("ov", model.Graph.Node[0].Overload);
        Assert.Equal(AttributeProto.Types.AttributeType.Tensor, model.Graph.Node[2].Attribute.Single(a => a.Name == "value").Type);
        Assert.Equal("v", model.Graph.Node[4].MetadataProps.Single().Value);
    }

    /// <summary>
    /// The graph's inputs, outputs, initializers and value_info the wire writer spells itself (named and unnamed dynamic
    /// dims, doc strings, an unranked input, initializers as inputs) and those it leaves to messages (a sequence).
    /// </summary>
    [Fact]
    public void EveryValueKindIsWrittenAsToModelSerializesIt()
    {
        var module = MirReader.ParseText("""
            module @values attributes {onnx.opset = 17 : i64, onnx.initializers_as_inputs} {
              func.func @main(%x: tensor<?x3xf32> {mo.name = "x", onnx.dim_params = ["batch"], onnx.doc_string = "the input"}, %u: tensor<*xf32> {mo.name = "u"}, %s: !onnx.Seq<tensor<*xf32>> {mo.name = "s"}) -> (tensor<?x3xf32> {mo.name = "y", onnx.dim_params = ["batch"], onnx.doc_string = "the output"}, tensor<?x3xf32> {mo.name = "z"}) {
                %w = "onnx.Constant"() {value = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>} : () -> tensor<3xf32> loc("w")
                %e = "onnx.Constant"() {value = dense<> : tensor<0xi64>} : () -> tensor<0xi64> loc("empty")
                %0 = "onnx.Add"(%x, %w) : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32> loc("add")
                %1 = "onnx.Relu"(%0) : (tensor<?x3xf32>) -> tensor<?x3xf32> loc("relu")
                %2 = "onnx.Neg"(%1) : (tensor<?x3xf32>) -> tensor<?x3xf32> loc("neg")
                return %2, %1 : tensor<?x3xf32>, tensor<?x3xf32>
              }
            }
            """);
        AssertSameBytes(module, "every value kind");
        using var stream = new MemoryStream();
        OnnxExporter.Write(module, stream, "/nonexistent/model.onnx");
        var graph = ModelProto.Parser.ParseFrom(stream.ToArray()).Graph;
        Assert.Equal(["x", "u", "s", "w", "empty"], graph.Input.Select(i => i.Name));
        Assert.Equal("batch", graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal("the input", graph.Input[0].DocString);
        Assert.Null(graph.Input[1].Type.TensorType.Shape);
        Assert.NotNull(graph.Input[2].Type.SequenceType);
        Assert.Equal(["y", "z"], graph.Output.Select(o => o.Name));
        Assert.Equal(["add_output"], graph.ValueInfo.Select(v => v.Name));
        Assert.False(graph.ValueInfo[0].Type.TensorType.Shape.Dim[0].HasDimValue);
        Assert.Equal([1f, 2f, 3f], MemoryMarshalFloats(graph.Initializer[0].RawData));
        Assert.True(graph.Initializer[1].HasRawData);
        Assert.Equal([0L], graph.Initializer[1].Dims);
    }

    private static float[] MemoryMarshalFloats(ByteString bytes) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.Span).ToArray();

    /// <summary>
    /// Initializers of AtomicFile's payload size or more go from their blobs to the file between segments of the
    /// wire writing (one after another, and between smaller ones): the file is still ToModel's bytes, as is a stream's.
    /// </summary>
    [Fact]
    public void WeightsLargerThanTheFileBufferAreWrittenAsToModelSerializesThem()
    {
        var module = Zoo.CnnWithBatchNorms();
        var expected = OnnxExporter.ToModel(module).ToByteArray();
        var sizes = ModelProto.Parser.ParseFrom(expected).Graph.Initializer.Select(t => t.RawData.Length).ToList();
        Assert.True(sizes.Count(n => n >= AtomicFile.DirectWriteBytes) >= 2, string.Join(", ", sizes));
        Assert.Contains(sizes, n => n < AtomicFile.DirectWriteBytes);
        using var dir = new TempDir();
        var path = dir.File("cnn.onnx");
        OnnxExporter.WriteFile(module, path);
        var written = File.ReadAllBytes(path);
        Assert.True(expected.AsSpan().SequenceEqual(written), $"written bytes differ from ToModel's ({written.Length} vs {expected.Length})");
        AssertSameBytes(module, "cnn with batch norms");
        Assert.Equal([path], Directory.GetFiles(dir.Path)); // no temporary left
    }

    /// <summary>The graph is @main, or the only function; a module with neither is refused, by Write as by ToModel.</summary>
    [Fact]
    public void TheGraphIsMainOrTheOnlyFunction()
    {
        static string Function(string name, string op) => $$"""
              func.func @{{name}}(%x: tensor<2xf32> {mo.name = "x"}) -> (tensor<2xf32> {mo.name = "y"}) {
                %0 = "onnx.{{op}}"(%x) : (tensor<2xf32>) -> tensor<2xf32> loc("{{op}}")
                return %0 : tensor<2xf32>
              }
            """;
        static MirModule Module(params string[] functions) => MirReader.ParseText($"module @m attributes {{onnx.opset = 17 : i64}} {{\n{string.Concat(functions)}}}\n");
        static string OpOf(MirModule module)
        {
            AssertSameBytes(module, "functions");
            using var stream = new MemoryStream();
            OnnxExporter.Write(module, stream, "/nonexistent/model.onnx");
            return ModelProto.Parser.ParseFrom(stream.ToArray()).Graph.Node.Single().OpType;
        }
        Assert.Equal("Relu", OpOf(Module(Function("only", "Relu"))));
        Assert.Equal("Neg", OpOf(Module(Function("other", "Relu"), Function("main", "Neg"))));
        foreach (var (module, message) in new[] { (Module(), "has no function"), (Module(Function("a", "Relu"), Function("b", "Neg")), "none is @main") })
        {
            Assert.Contains(message, Assert.Throws<MirException>(() => OnnxExporter.ToModel(module)).Message);
            Assert.Contains(message, Assert.Throws<MirException>(() => OnnxExporter.Write(module, new MemoryStream(), "/nonexistent/model.onnx")).Message);
        }
    }

    /// <summary>The Caffe nets as --pipeline=deploy leaves them (what the Caffe benchmark writes), and as lowered.</summary>
    [SharedModelsTheory]
    [MemberData(nameof(CaffeRealNetTests.Nets), MemberType = typeof(CaffeRealNetTests))]
    public void DeployedCaffeNetsAreWrittenAsToModelSerializesThem(string name)
    {
        var net = CaffeRealNets.Named(name);
        using var dir = new TempDir();
        foreach (var passes in new[] { "--pipeline=deploy", "--convert-caffe-to-onnx" })
        {
            var mir = dir.File(name + ".mir");
            var (exit, _, stderr) = Mir.Opt([.. net.MoptInput(CaffeRealNets.Models), passes, "-o", mir]);
            Assert.True(exit == 0, stderr);
            AssertSameBytes(MirReader.ParseText(File.ReadAllText(mir), mir), $"{name} {passes}");
        }
    }

    /// <summary>The TensorFlow graphs as --convert-tf-to-onnx lowers them (the lowering's shapes: TfLoweringTests').</summary>
    [SharedModelsTheory]
    [MemberData(nameof(TfLoweringTests.Graphs), MemberType = typeof(TfLoweringTests))]
    public void LoweredTfGraphsAreWrittenAsToModelSerializesThem(string relative, string cut, string shape, string outputShape, int transposes)
    {
        _ = (outputShape, transposes);
        using var dir = new TempDir();
        var mir = dir.File("lowered.mir");
        string[] cutArgs = cut.Length == 0 ? [] : ["--tf-inputs=" + cut];
        var (exit, _, stderr) = Mir.Opt([Path.Combine(TestPaths.SharedModels, "tf", relative), .. cutArgs, "--set-input-shape=" + shape, "--convert-tf-to-onnx", "-o", mir]);
        Assert.True(exit == 0, stderr);
        AssertSameBytes(MirReader.ParseText(File.ReadAllText(mir), mir), relative);
    }

    /// <summary>The Paddle models as --convert-paddle-to-onnx lowers them.</summary>
    [SharedModelsTheory]
    [MemberData(nameof(PaddleWriterTests.Real), MemberType = typeof(PaddleWriterTests))]
    public void LoweredPaddleModelsAreWrittenAsToModelSerializesThem(string name)
    {
        using var dir = new TempDir();
        var mir = dir.File("lowered.mir");
        var (exit, _, stderr) = Mir.Opt([Path.Combine(TestPaths.SharedModels, "paddle", name), "--convert-paddle-to-onnx", "-o", mir]);
        Assert.True(exit == 0, stderr);
        AssertSameBytes(MirReader.ParseText(File.ReadAllText(mir), mir), name);
    }
}
