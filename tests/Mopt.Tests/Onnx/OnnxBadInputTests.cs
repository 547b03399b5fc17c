using Google.Protobuf;
using Mopt.Onnx.Proto;
using Mopt.Tools.Opt;
using static Mopt.Tests.Onnx.OnnxTestSupport;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Tests.Onnx;

/// <summary>
/// Bad ONNX input: one clear line naming the file and the node or tensor, exit status 1, no stack trace, and no
/// output file (mopt-opt is run in process, as the command line does).
/// </summary>
public sealed class OnnxBadInputTests
{
    /// <summary>Runs <c>mopt-opt input -o out.onnx</c>; returns stderr after checking exit 1, one line, no trace, no output.</summary>
    private static string Fails(TempDir tmp, string input)
    {
        var output = tmp.File("out.onnx");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int status = OptTool.Run([input, "-o", output], stdout, stderr);
        var text = stderr.ToString().TrimEnd('\n');
        Assert.Equal(1, status);
        Assert.StartsWith("error: ", text);
        Assert.DoesNotContain('\n', text);
        Assert.DoesNotContain(" at Mopt.", text);
        Assert.DoesNotContain("Exception", text);
        Assert.DoesNotContain("internal error", text);
        Assert.False(File.Exists(output), "no output file is written");
        Assert.Empty(Directory.EnumerateFiles(tmp.Path, "*.tmp"));
        Assert.Equal("", stdout.ToString());
        return text;
    }

    private static string Write(TempDir tmp, ModelProto model, string name = "bad.onnx")
    {
        var path = tmp.File(name);
        Save(model, path);
        return path;
    }

    [Fact]
    public void NotAProtobuf()
    {
        using var tmp = new TempDir();
        var path = tmp.File("text.onnx");
        File.WriteAllText(path, "this is not an onnx model\n");
        var e = Fails(tmp, path);
        Assert.Contains($"'{path}': not an ONNX model", e);
    }

    [Fact]
    public void EmptyFile()
    {
        using var tmp = new TempDir();
        var path = tmp.File("empty.onnx");
        File.WriteAllBytes(path, []);
        Assert.Contains($"'{path}': not an ONNX model: the file is empty", Fails(tmp, path));
    }

    [Fact]
    public void AnotherProtobufIsNotAModel()
    {
        using var tmp = new TempDir();
        var path = tmp.File("tensor.onnx");
        File.WriteAllBytes(path, FloatTensor("t", [2], 1, 2).ToByteArray());
        Assert.Contains($"'{path}': not an ONNX model", Fails(tmp, path));
    }

    [SharedModelsFact]
    public void TruncatedFile()
    {
        using var tmp = new TempDir();
        var path = tmp.File("cut.onnx");
        var bytes = File.ReadAllBytes(Path.Combine(OnnxModels, "connxr_mnist", "model.onnx"));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Contains($"'{path}': not an ONNX model: the file is truncated", Fails(tmp, path));
    }

    [Fact]
    public void MissingExternalDataFile()
    {
        using var tmp = new TempDir();
        var w = new TensorProto { Name = "w", DataType = (int)DataType.Float, Dims = { 2 }, DataLocation = TensorProto.Types.DataLocation.External };
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        var path = Write(tmp, Model(Graph("g", [Node("Add", ["x", "w"], ["y"], "add")], [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2)], [w])));
        var e = Fails(tmp, path);
        Assert.Contains($"'{path}': external data file 'weights.bin' of initializer 'w' does not exist", e);
    }

    [Fact]
    public void ExternalDataFileTooShort()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("weights.bin"), new byte[4]);
        var w = new TensorProto { Name = "w", DataType = (int)DataType.Float, Dims = { 2 }, DataLocation = TensorProto.Types.DataLocation.External };
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        var path = Write(tmp, Model(Graph("g", [Node("Add", ["x", "w"], ["y"], "add")], [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2)], [w])));
        Assert.Contains("initializer 'w' needs bytes 0..8 of 'weights.bin', which has only 4", Fails(tmp, path));
    }

    [Fact]
    public void NodeReadsATensorNoOneProduces()
    {
        using var tmp = new TempDir();
        var path = Write(tmp, Model(Graph("g",
            [Node("Relu", ["x"], ["a"], "relu"), Node("Add", ["a", "ghost"], ["y"], "add_ghost")],
            [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2)])));
        Assert.Contains($"'{path}': node 'add_ghost' (Add) reads tensor 'ghost', which no node, graph input or initializer produces", Fails(tmp, path));
    }

    [Fact]
    public void UnnamedNodeReadingAMissingTensorIsNamedByItsPosition()
    {
        using var tmp = new TempDir();
        var path = Write(tmp, Model(Graph("g",
            [Node("Relu", ["x"], ["a"]), Node("Mul", ["a", "ghost"], ["y"])],
            [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2)])));
        Assert.Contains("node 'Mul_1' (Mul) reads tensor 'ghost'", Fails(tmp, path));
    }

    [Fact]
    public void GraphOutputNoOneProduces()
    {
        using var tmp = new TempDir();
        var path = Write(tmp, Model(Graph("g", [Node("Relu", ["x"], ["a"], "relu")], [Vi("x", DataType.Float, 2)], [Vi("nothing", DataType.Float, 2)])));
        Assert.Contains("graph output 'nothing' is not produced by any node, graph input or initializer", Fails(tmp, path));
    }

    [Fact]
    public void GraphWithACycle()
    {
        using var tmp = new TempDir();
        var path = Write(tmp, Model(Graph("g",
            [Node("Relu", ["x"], ["a"], "start"), Node("Add", ["a", "c"], ["b"], "loop_a"), Node("Neg", ["b"], ["c"], "loop_b"), Node("Relu", ["b"], ["y"], "end")],
            [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2)])));
        var e = Fails(tmp, path);
        Assert.Contains($"'{path}': the main graph has a cycle: 'loop_b' -> 'loop_a' -> 'loop_b'", e);
    }

    [Fact]
    public void TensorWrittenTwice()
    {
        using var tmp = new TempDir();
        var path = Write(tmp, Model(Graph("g",
            [Node("Relu", ["x"], ["y"], "first"), Node("Neg", ["x"], ["y"], "second")],
            [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2)])));
        Assert.Contains("tensor 'y' is written by both node 'first' (Relu) and node 'second' (Neg)", Fails(tmp, path));
    }

    [Theory]
    [InlineData(27)]
    [InlineData(30)]
    public void OpsetOutsideOneToTwentyOne(int opset)
    {
        using var tmp = new TempDir();
        var path = Write(tmp, Model(Graph("g", [Node("Relu", ["x"], ["y"], "relu")], [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2)]), opset: opset));
        Assert.Contains($"'{path}': opset {opset} of the default ONNX domain is not supported (mopt reads opsets 1 to 26)", Fails(tmp, path));
    }

    [Fact]
    public void StringInitializerWithTooFewStringsIsNamed()
    {
        using var tmp = new TempDir();
        var s = new TensorProto { Name = "labels", DataType = (int)DataType.String, Dims = { 2 } };
        s.StringData.Add(ByteString.CopyFromUtf8("cat"));
        var path = Write(tmp, Model(Graph("g", [Node("Identity", ["labels"], ["y"], "id")], [], [Vi("y", DataType.String, 2)], [s])));
        Assert.Contains($"'{path}': initializer 'labels' has 1 strings but its shape needs 2", Fails(tmp, path));
    }

    [Fact]
    public void RawDataOfTheWrongSize()
    {
        using var tmp = new TempDir();
        var w = FloatTensor("w", [3], 1, 2);
        var path = Write(tmp, Model(Graph("g", [Node("Add", ["x", "w"], ["y"], "add")], [Vi("x", DataType.Float, 3)], [Vi("y", DataType.Float, 3)], [w])));
        Assert.Contains("initializer 'w' has 8 bytes of raw_data but tensor<3xf32> needs 12", Fails(tmp, path));
    }

    [Fact]
    public void MissingInputFile()
    {
        using var tmp = new TempDir();
        var path = tmp.File("nowhere.onnx");
        Assert.Contains($"cannot read '{path}'", Fails(tmp, path));
    }

    [Fact]
    public void UnloweredOpsCannotBeWrittenAsOnnx()
    {
        using var tmp = new TempDir();
        var mir = tmp.File("caffe.mir");
        File.WriteAllText(mir, """
            module {
              func.func @main(%x: tensor<2xf32> {mo.name = "x"}) -> (tensor<2xf32> {mo.name = "y"}) {
                %0 = "mxnet.Activation"(%x) : (tensor<2xf32>) -> tensor<2xf32> loc("relu")
                return %0 : tensor<2xf32>
              }
            }
            """);
        Assert.Contains("cannot write ONNX: 'mxnet.Activation' at \"relu\" has no ONNX form", Fails(tmp, mir));
        // tf.*, caffe.* and paddle.* are lowered on the way (--convert-tf-to-onnx, ...); an op with no lowering is named.
        var tf = tmp.File("tf.mir");
        File.WriteAllText(tf, File.ReadAllText(mir).Replace("mxnet.Activation", "tf.FFT", StringComparison.Ordinal));
        Assert.Contains("cannot lower to ONNX: node 'relu' (FFT): no ONNX lowering for this op type", Fails(tmp, tf));
        var caffe = tmp.File("caffe2.mir");
        File.WriteAllText(caffe, File.ReadAllText(mir).Replace("mxnet.Activation", "caffe.SPP", StringComparison.Ordinal));
        Assert.Contains("cannot lower to ONNX: node 'relu' (SPP): no ONNX lowering for this op type", Fails(tmp, caffe));
    }

    private static TensorProto External(string name, long[] dims, string location, long? offset = null, long? length = null)
    {
        var w = new TensorProto { Name = name, DataType = (int)DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.AddRange(dims);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        if (offset is long o) w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = o.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        if (length is long l) w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = l.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return w;
    }

    private static ModelProto AddModel(TensorProto w, long n) =>
        Model(Graph("g", [Node("Add", ["x", w.Name], ["y"], "add")], [Vi("x", DataType.Float, n)], [Vi("y", DataType.Float, n)], [w]));

    [Theory]
    [InlineData("../weights.bin")]
    [InlineData("sub/../../weights.bin")]
    [InlineData("/etc/hostname")]
    public void ExternalDataOutsideTheModelsFolderIsRefused(string location)
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(tmp.Path)!, "weights.bin"), new byte[8]);
        var path = Write(tmp, AddModel(External("w", [2], location), 2));
        Assert.Contains($"'{path}': initializer 'w' keeps its data in '{location}', outside the model's folder", Fails(tmp, path));
    }

    [Fact]
    public void ExternalDataOfAnOffsetPastTheEndOfTheFile()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("weights.bin"), new byte[12]);
        var path = Write(tmp, AddModel(External("w", [2], "weights.bin", offset: 8, length: 8), 2));
        Assert.Contains("initializer 'w' needs bytes 8..16 of 'weights.bin', which has only 12", Fails(tmp, path));
    }

    [Fact]
    public void ExternalDataLengthNotMatchingTheShape()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("weights.bin"), new byte[64]);
        var path = Write(tmp, AddModel(External("w", [2], "weights.bin", offset: 0, length: 12), 2));
        Assert.Contains("initializer 'w' has 12 bytes of external data but 8 are needed", Fails(tmp, path));
    }

    /// <summary>A raw_data large enough to stay in the mapped file (OnnxFileSkeleton) is checked as a parsed one is.</summary>
    [Fact]
    public void MappedRawDataOfTheWrongSize()
    {
        using var tmp = new TempDir();
        var w = new TensorProto { Name = "w", DataType = (int)DataType.Float, Dims = { 1100 }, RawData = ByteString.CopyFrom(new byte[4800]) };
        var path = Write(tmp, AddModel(w, 1100));
        Assert.Contains("initializer 'w' has 4800 bytes of raw_data but tensor<1100xf32> needs 4400", Fails(tmp, path));
    }

    [Theory]
    [InlineData("ai.onnx.ml", 99, "has version 99, which does not exist (the newest is 5)")]
    [InlineData("ai.onnx.ml", 0, "has version 0; versions start at 1")]
    [InlineData("com.example", -1, "has version -1; versions start at 1")]
    public void OpsetImportOfAVersionThatDoesNotExist(string domain, long version, string why)
    {
        using var tmp = new TempDir();
        var path = Write(tmp, Model(Graph("g", [Node("Relu", ["x"], ["y"], "relu")], [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2)]), 17, 8, (domain, version)));
        Assert.Contains($"'{path}': the opset import of domain '{domain}' {why}", Fails(tmp, path));
    }
}
