using System.Runtime.InteropServices;
using Google.Protobuf;
using Mopt.Caffe.Proto;
using Mopt.Frontend.Caffe;
using Mopt.Ir;

namespace Mopt.Tests.Caffe;

/// <summary>
/// A prototxt's weights file is read as byte runs (caffe_weights.proto): the blobs must be the very bytes a full
/// NetParameter read gives, V1 layers included, and a caffemodel whose floats are written unpacked (legal protobuf,
/// not what Caffe writes) must still import, through the full read. The read is a hand-written walk whose blobs are
/// slices of the file (CaffeWeightsWalk): whatever it reads must come out as the full read's, and whatever it does not
/// read (a damaged file) must fail with the generated parser's error.
/// </summary>
public sealed class CaffeWeightsReadTests
{
    private static readonly float[] Weights = [1.5f, -2, 3.25f, 4, 0.5f, 6, -7, 8];

    private static NetParameter Structure()
    {
        var net = new NetParameter { Name = "w", Input = { "data" }, InputShape = { new BlobShape { Dim = { 1, 2, 2, 2 } } } };
        var conv = new LayerParameter { Name = "conv", Type = "Convolution", Bottom = { "data" }, Top = { "conv" } };
        conv.ConvolutionParam = new ConvolutionParameter { NumOutput = 4, KernelSize = { 1 }, BiasTerm = false };
        net.Layer.Add(conv);
        return net;
    }

    private static byte[] BlobBytes(MirModule module)
    {
        var conv = module.MainFunction.Body.Operations.Single(o => o.Name == "caffe.Convolution");
        var constant = Assert.IsType<OpResult>(conv.GetOperand(1)).Owner;
        return module.Resources[Assert.IsType<DenseResourceAttr>(constant.GetAttr("value")).Key].Data.ToArray();
    }

    private static MirModule ImportWith(TempDir dir, byte[] caffemodel)
    {
        var path = dir.File("w.caffemodel");
        File.WriteAllBytes(path, caffemodel);
        var prototxt = dir.Write("w.prototxt", Mopt.Protobuf.ProtoText.Format(Structure()));
        return new CaffePrototxtReader().Read(prototxt);
    }

    [Fact]
    public void PackedBlobsAreTheFilesBytes()
    {
        using var dir = new TempDir();
        var weights = Structure();
        weights.Layer[0].Blobs.Add(new BlobProto { Shape = new BlobShape { Dim = { 4, 2, 1, 1 } }, Data = { Weights } });
        var module = ImportWith(dir, weights.ToByteArray());
        Assert.Equal(MemoryMarshal.AsBytes(Weights.AsSpan()).ToArray(), BlobBytes(module));
        // the same as the full read of the same file
        Assert.Equal(BlobBytes(CaffeImporter.Import(Structure(), "w.prototxt", weights, "w.caffemodel")), BlobBytes(module));
    }

    [Fact]
    public void UnpackedFloatsAreReadThroughTheFullNetParameter()
    {
        using var dir = new TempDir();
        var module = ImportWith(dir, UnpackedCaffeModel());
        Assert.Equal(MemoryMarshal.AsBytes(Weights.AsSpan()).ToArray(), BlobBytes(module));
    }

    [Fact]
    public void ABlobOfTheWrongSizeNamesTheWeightsFileAndLayer()
    {
        using var dir = new TempDir();
        var weights = Structure();
        weights.Layer[0].Blobs.Add(new BlobProto { Shape = new BlobShape { Dim = { 4, 2, 1, 1 } }, Data = { Weights[..5] } });
        var e = Assert.Throws<MirException>(() => ImportWith(dir, weights.ToByteArray()));
        Assert.Contains("w.caffemodel': layer 'conv' (Convolution): blob 0: it has 5 values, its shape [4x2x1x1] needs 8", e.Message);
    }

    /// <summary>A NetParameter whose one blob writes each float as its own fixed32 field 5 (no packed run).</summary>
    private static byte[] UnpackedCaffeModel()
    {
        var blob = new MemoryStream();
        var b = new CodedOutputStream(blob);
        b.WriteTag(BlobProto.ShapeFieldNumber, WireFormat.WireType.LengthDelimited);
        b.WriteMessage(new BlobShape { Dim = { 4, 2, 1, 1 } });
        foreach (var v in Weights)
        {
            b.WriteTag(BlobProto.DataFieldNumber, WireFormat.WireType.Fixed32);
            b.WriteFloat(v);
        }
        b.Flush();
        return LayerWithBlob(Structure().Layer[0], blob.ToArray());
    }

    /// <summary>The blob bytes of the import through the walk equal those of the full NetParameter read of the same file.</summary>
    private static void AssertSameAsFullRead(byte[] caffemodel)
    {
        using var dir = new TempDir();
        var walked = BlobBytes(ImportWith(dir, caffemodel));
        var full = BlobBytes(CaffeImporter.Import(Structure(), "w.prototxt", NetParameter.Parser.ParseFrom(caffemodel), "w.caffemodel"));
        Assert.Equal(full, walked);
    }

    [Fact]
    public void RunsSplitInTwoAreJoined()
    {
        var blob = new MemoryStream();
        var b = new CodedOutputStream(blob);
        b.WriteTag(BlobProto.ShapeFieldNumber, WireFormat.WireType.LengthDelimited);
        b.WriteMessage(new BlobShape { Dim = { 4, 2, 1, 1 } });
        foreach (var run in new[] { Weights[..3], Weights[3..] })
        {
            b.WriteTag(BlobProto.DataFieldNumber, WireFormat.WireType.LengthDelimited);
            b.WriteBytes(ByteString.CopyFrom(MemoryMarshal.AsBytes(run.AsSpan())));
        }
        b.WriteTag(999, WireFormat.WireType.Varint); // a field the schema does not know is skipped
        b.WriteInt64(-1);
        b.Flush();
        var file = LayerWithBlob(Structure().Layer[0], blob.ToArray());
        AssertSameAsFullRead(file);
        using var dir = new TempDir();
        Assert.Equal(MemoryMarshal.AsBytes(Weights.AsSpan()).ToArray(), BlobBytes(ImportWith(dir, file)));
    }

    [Fact]
    public void V1LayersWithLegacyDimsReadAsTheFullReadDoes()
    {
        var weights = new NetParameter();
        weights.Layers.Add(new V1LayerParameter
        {
            Name = "conv", Type = V1LayerParameter.Types.LayerType.Convolution,
            Blobs = { new BlobProto { Num = 4, Channels = 2, Height = 1, Width = 1, Data = { Weights } } },
        });
        AssertSameAsFullRead(weights.ToByteArray());
    }

    [Fact]
    public void AShapeGivenTwiceIsMergedAsProtobufMergesIt()
    {
        var blob = new MemoryStream();
        var b = new CodedOutputStream(blob);
        b.WriteTag(BlobProto.ShapeFieldNumber, WireFormat.WireType.LengthDelimited);
        b.WriteMessage(new BlobShape { Dim = { 4, 2 } });
        b.WriteTag(BlobProto.ShapeFieldNumber, WireFormat.WireType.LengthDelimited);
        b.WriteMessage(new BlobShape { Dim = { 1, 1 } });
        b.WriteTag(BlobProto.DataFieldNumber, WireFormat.WireType.LengthDelimited);
        b.WriteBytes(ByteString.CopyFrom(MemoryMarshal.AsBytes(Weights.AsSpan())));
        b.Flush();
        AssertSameAsFullRead(LayerWithBlob(Structure().Layer[0], blob.ToArray()));
    }

    [Fact]
    public void ADamagedWeightsFileFailsWithTheParsersError()
    {
        var weights = Structure();
        weights.Layer[0].Blobs.Add(new BlobProto { Shape = new BlobShape { Dim = { 4, 2, 1, 1 } }, Data = { Weights } });
        var bytes = weights.ToByteArray();
        using var dir = new TempDir();
        var path = dir.File("w.caffemodel");
        var e = Assert.Throws<MirException>(() => ImportWith(dir, bytes[..^5]));
        Assert.Equal($"'{path}': not a Caffe NetParameter: the file is truncated", e.Message);
        e = Assert.Throws<MirException>(() => ImportWith(dir, []));
        Assert.Equal($"'{path}': not a Caffe NetParameter: the file is empty", e.Message);
        var untyped = new NetParameter { Layer = { new LayerParameter { Name = "conv" } } };
        e = Assert.Throws<MirException>(() => ImportWith(dir, untyped.ToByteArray()));
        Assert.Equal($"'{path}': not a Caffe NetParameter (or a truncated one): layer 'conv' has no type", e.Message);
    }

    /// <summary>A NetParameter of <paramref name="layer"/> followed by one blob of the given wire bytes.</summary>
    private static byte[] LayerWithBlob(LayerParameter layer, byte[] blob)
    {
        var layerBytes = new MemoryStream();
        var l = new CodedOutputStream(layerBytes);
        layer.WriteTo(l);
        l.WriteTag(LayerParameter.BlobsFieldNumber, WireFormat.WireType.LengthDelimited);
        l.WriteBytes(ByteString.CopyFrom(blob));
        l.Flush();
        var net = new MemoryStream();
        var n = new CodedOutputStream(net);
        n.WriteTag(NetParameter.LayerFieldNumber, WireFormat.WireType.LengthDelimited);
        n.WriteBytes(ByteString.CopyFrom(layerBytes.ToArray()));
        n.Flush();
        return net.ToArray();
    }
}
