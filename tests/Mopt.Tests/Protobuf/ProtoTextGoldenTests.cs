using Mopt.Onnx.Proto;
using Mopt.Protobuf;

namespace Mopt.Tests.Protobuf;

/// <summary>The writer's exact text for one model and one TensorFlow node (Golden/, MOPT_UPDATE_GOLDEN=1 rewrites).</summary>
public sealed class ProtoTextGoldenTests
{
    [Fact]
    public void OnnxModel()
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "mopt", Graph = ProtoTextSamples.OnnxGraph() };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        model.Graph.Initializer[0].RawData = Google.Protobuf.ByteString.CopyFrom(0, 0, 0x80, 0x3F, (byte)'"', (byte)'\\', 0xFF);
        Golden.Match("onnx-model.pbtxt", ProtoText.Format(model));
    }

    [Fact]
    public void TensorFlowNode() => Golden.Match("tf-node.pbtxt", ProtoText.Format(ProtoTextSamples.TfNode()));
}
