using Google.Protobuf;
using Mopt.Caffe.Proto;
using Mopt.Caffe.Proto.Weights;
using Mopt.Ir;
using Mopt.Protobuf;

namespace Mopt.Backend.Caffe;

/// <summary>
/// A net to write: the NetParameter's own fields (<paramref name="Head"/>, no layers) and its layers, each as its fields'
/// bytes and its blobs kept as the IR's bytes (<see cref="WeightsBlob"/>, caffe_weights.proto), so the <c>.caffemodel</c>
/// is written with one copy of each blob and no float lists (on the wire they are BlobProtos with packed <c>data</c>), and
/// the prototxt is printed from the layers' bytes.
/// </summary>
public sealed record CaffeNet(NetParameter Head, IReadOnlyList<CaffeNetLayer> Layers)
{
    /// <summary>The prototxt: the head's fields, then each layer (field 100, the last) without its blobs.</summary>
    public string Prototxt()
    {
        var fields = new ReadOnlyMemory<byte>[Layers.Count];
        for (int i = 0; i < fields.Length; i++) fields[i] = Layers[i].Fields;
        return ProtoText.Format(Head, NetParameter.Descriptor.FindFieldByNumber(NetParameter.LayerFieldNumber), fields);
    }

    /// <summary>
    /// The binary NetParameter: the head's fields, then each layer (field 100) as its fields followed by its blobs
    /// (field 7). Protobuf reads fields in any order, and Caffe's own writer puts layers last too.
    /// </summary>
    public void WriteCaffeModel(Stream output)
    {
        var cos = new CodedOutputStream(output, leaveOpen: true);
        Head.WriteTo(cos);
        for (int i = 0; i < Layers.Count; i++)
        {
            var layer = Layers[i].Fields.Span;
            var blobs = Layers[i].Blobs;
            int size = layer.Length;
            foreach (var b in blobs)
                size += CodedOutputStream.ComputeTagSize(LayerParameter.BlobsFieldNumber) + CodedOutputStream.ComputeMessageSize(b);
            cos.WriteTag(NetParameter.LayerFieldNumber, WireFormat.WireType.LengthDelimited);
            cos.WriteLength(size);
            cos.Flush(); // the layer's bytes go to the stream as they are
            output.Write(layer);
            foreach (var b in blobs)
            {
                cos.WriteTag(LayerParameter.BlobsFieldNumber, WireFormat.WireType.LengthDelimited);
                cos.WriteLength(b.CalculateSize());
                WriteBlob(cos, output, b);
            }
        }
        cos.Flush();
    }

    /// <summary>
    /// A blob's fields in number order, as its generated code writes them, except that data larger than the coded
    /// stream's buffer goes to <paramref name="output"/> as it is: protobuf copied it through its 4 KB buffer into the
    /// file's (AtomicFile's takes one of 32 KB or more as a payload, written with what it buffered in one call).
    /// </summary>
    private static void WriteBlob(CodedOutputStream cos, Stream output, WeightsBlob blob)
    {
        if (blob.HasNum || blob.HasChannels || blob.HasHeight || blob.HasWidth)
        {
            cos.WriteRawMessage(blob); // the legacy 4-D shape: not what CaffeExporter makes
            return;
        }
        WriteBytes(cos, output, WeightsBlob.DataFieldNumber, blob.Data);
        if (blob.Shape is not null)
        {
            cos.WriteTag(WeightsBlob.ShapeFieldNumber, WireFormat.WireType.LengthDelimited);
            cos.WriteMessage(blob.Shape);
        }
        WriteBytes(cos, output, WeightsBlob.DoubleDataFieldNumber, blob.DoubleData);
    }

    private static void WriteBytes(CodedOutputStream cos, Stream output, int field, IReadOnlyList<ByteString> values)
    {
        for (int i = 0; i < values.Count; i++) // by index: an enumerator through the interface is an object per blob
        {
            var value = values[i];
            cos.WriteTag(field, WireFormat.WireType.LengthDelimited);
            if (value.Length < CodedStreamBuffer)
            {
                cos.WriteBytes(value);
                continue;
            }
            cos.WriteLength(value.Length);
            cos.Flush();
            IPayloadWriter.Write(output, value.Memory); // with what the file buffered before it in one call (AtomicFile's)
        }
    }

    /// <summary>The buffer of a <see cref="CodedOutputStream"/> made on a stream (protobuf's default).</summary>
    private const int CodedStreamBuffer = 4096;
}
