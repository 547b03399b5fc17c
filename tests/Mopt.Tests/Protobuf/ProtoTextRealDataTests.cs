using Google.Protobuf;
using Mopt.Onnx.Proto;
using Mopt.Protobuf;
using Mopt.Tf.Proto;

namespace Mopt.Tests.Protobuf;

/// <summary>
/// Real text: TensorFlow's own .pbtxt test graphs (Data/, see SOURCES.md) and the real models of ../shared/models as
/// protoc prints them. Our reader gives the message protobuf's own reader gives; our writer prints what protoc prints.
/// </summary>
public sealed class ProtoTextRealDataTests
{
    private static string DataPath(string name) => Path.Combine(TestPaths.RepoRoot(), "tests", "Mopt.Tests", "Protobuf", "Data", name);

    [Theory]
    [InlineData("const-values.pbtxt")]
    [InlineData("string-attr.pbtxt")]
    public void TensorFlowPbtxtReadsAsProtocReadsIt(string name)
    {
        var path = DataPath(name);
        var text = File.ReadAllText(path);
        var mine = ProtoText.Parse<GraphDef>(text, path);
        var reference = GraphDef.Parser.ParseFrom(Protoc.Encode(Protoc.TfSchema, "tensorflow.GraphDef", text));
        Assert.Equal(reference, mine);
        Assert.Equal(Protoc.Decode(Protoc.TfSchema, "tensorflow.GraphDef", reference.ToByteArray()), ProtoText.Format(mine));
    }

    [Fact]
    public void ConstValuesHoldTheirNumbers()
    {
        var graph = ProtoText.Parse<GraphDef>(File.ReadAllText(DataPath("const-values.pbtxt")));
        Assert.Equal(["x", "y", "z"], graph.Node.Select(n => n.Name));
        var x = graph.Node[0].Attr["value"].Tensor;
        Assert.Equal(DataType.DtFloat, x.Dtype);
        Assert.Equal([2L, 3L], x.TensorShape.Dim.Select(d => d.Size));
        var floats = new float[6];
        Buffer.BlockCopy(x.TensorContent.ToByteArray(), 0, floats, 0, 24);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], floats);
        var y = graph.Node[1].Attr["value"].Tensor.TensorContent.ToByteArray();
        Assert.Equal([1L, 3, 2, 5, 4, 7], Enumerable.Range(0, 6).Select(i => BitConverter.ToInt64(y, i * 8)));
        var s = ProtoText.Parse<GraphDef>(File.ReadAllText(DataPath("string-attr.pbtxt")));
        Assert.Equal(74, s.Versions.Producer);
        Assert.Equal(3, s.Node[0].Attr["value"].Tensor.StringVal.Count);
        Assert.Equal(3, s.Node[0].Attr["_output_shapes"].List.Shape[0].Dim[0].Size);
    }

    [SharedModelsTheory]
    [InlineData("onnx/connxr_mnist/model.onnx")]
    [InlineData("onnx/ultraface_rfb_320/version-RFB-320.onnx")]
    [InlineData("onnx/onnx_pytorch_converted/test_BatchNorm2d_eval/model.onnx")]
    [InlineData("onnx/onnx_pytorch_converted/test_Linear/model.onnx")]
    public void RealOnnxModelsAsText(string model)
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.SharedModels, model));
        CheckAgainstProtoc(ModelProto.Parser.ParseFrom(bytes), Protoc.OnnxSchema, bytes);
    }

    [SharedModelsTheory]
    [InlineData("tf/ml_kws_cnn_s/CNN_S.pb")]
    [InlineData("tf/ml_kws_ds_cnn_s/DS_CNN_S.pb")]
    [InlineData("tf/nnstreamer_mnist/mnist.pb")]
    [InlineData("tf/tf2onnx_fc_layers/frozen.pb")]
    [InlineData("tf/utensor_cifar10_cnn/cifar10_cnn.pb")]
    public void RealTensorFlowGraphsAsText(string model)
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.SharedModels, model));
        CheckAgainstProtoc(GraphDef.Parser.ParseFrom(bytes), Protoc.TfSchema, bytes);
    }

    /// <summary>
    /// protoc's text of the binary model reads as the binary does; ours is protoc's text, except that a float may be
    /// written shorter (protoc prints 9 or 17 significant digits where fewer read back the same).
    /// </summary>
    private static void CheckAgainstProtoc(IMessage binary, string schema, byte[] bytes)
    {
        var protocText = Protoc.Decode(schema, binary.Descriptor.FullName, bytes);
        var mine = ProtoText.Parse(binary.Descriptor, protocText, "protoc");
        Assert.Equal(binary, mine);
        var ours = ProtoText.Format(binary);
        Assert.Equal(binary, ProtoText.Parse(binary.Descriptor, ours, "ours"));
        var theirLines = protocText.Split('\n');
        var ourLines = ours.Split('\n');
        Assert.Equal(theirLines.Length, ourLines.Length);
        for (int i = 0; i < ourLines.Length; i++)
        {
            if (theirLines[i] == ourLines[i]) continue;
            int colon = ourLines[i].IndexOf(": ", StringComparison.Ordinal);
            Assert.True(colon > 0 && theirLines[i][..colon] == ourLines[i][..colon], $"line {i + 1}: protoc '{theirLines[i]}', ours '{ourLines[i]}'");
            string theirs = theirLines[i][(colon + 2)..], our = ourLines[i][(colon + 2)..];
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            // the same double, or (a float field) the same float
            Assert.True(double.Parse(theirs, inv) == double.Parse(our, inv) || float.Parse(theirs, inv) == float.Parse(our, inv),
                $"line {i + 1}: protoc '{theirLines[i]}', ours '{ourLines[i]}'");
        }
    }
}
