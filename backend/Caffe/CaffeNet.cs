using Google.Protobuf;
using Mopt.Caffe.Proto;
using Mopt.Caffe.Proto.Weights;

namespace Mopt.Backend.Caffe;

/// <summary>
/// A net to write: its structure (the NetParameter with no blobs: the prototxt) and the blobs of each of its layers,
/// kept as the IR's bytes (<see cref="WeightsBlob"/>, caffe_weights.proto), so the <c>.caffemodel</c> is written with one
/// copy of each blob and no float lists; on the wire they are BlobProtos with packed <c>data</c>.
/// </summary>
public sealed record CaffeNet(NetParameter Structure, IReadOnlyList<IReadOnlyList<WeightsBlob>> LayerBlobs)
{
    /// <summary>
    /// The binary NetParameter: the structure's fields, then each layer (field 100) as its fields followed by its blobs
    /// (field 7). Protobuf reads fields in any order, and Caffe's own writer puts layers last too.
    /// </summary>
    public void WriteCaffeModel(Stream output)
    {
        var cos = new CodedOutputStream(output, leaveOpen: true);
        // The net's own fields: its layers are set aside while it is written (a clone without them cloned every layer).
        var layers = Structure.Layer.ToArray();
        Structure.Layer.Clear();
        try { Structure.WriteTo(cos); }
        finally { Structure.Layer.AddRange(layers); }
        for (int i = 0; i < Structure.Layer.Count; i++)
        {
            var layer = Structure.Layer[i];
            var blobs = LayerBlobs[i];
            int size = layer.CalculateSize();
            foreach (var b in blobs)
                size += CodedOutputStream.ComputeTagSize(LayerParameter.BlobsFieldNumber) + CodedOutputStream.ComputeMessageSize(b);
            cos.WriteTag(NetParameter.LayerFieldNumber, WireFormat.WireType.LengthDelimited);
            cos.WriteLength(size);
            layer.WriteTo(cos);
            foreach (var b in blobs)
            {
                cos.WriteTag(LayerParameter.BlobsFieldNumber, WireFormat.WireType.LengthDelimited);
                cos.WriteMessage(b);
            }
        }
        cos.Flush();
    }
}
