using Google.Protobuf;
using Mopt.Protobuf;

namespace Mopt.Tests.Protobuf;

/// <summary>Write then read gives the same message, for every message kind; and protobuf's own reader (protoc) agrees.</summary>
public sealed class ProtoTextRoundTripTests
{
    public static TheoryData<string> Kinds() => [.. ProtoTextSamples.All().Select(s => s.Name)];

    private static IMessage Sample(string name) => ProtoTextSamples.All().Single(s => s.Name == name).Message;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void WriteThenReadIsTheIdentity(string kind)
    {
        var message = Sample(kind);
        var text = ProtoText.Format(message);
        var back = ProtoText.Parse(message.Descriptor, text, kind);
        Assert.Equal(message, back);
        // (not compared as bytes: a map serializes in insertion order, and the text holds it sorted by key)
        Assert.Equal(text, ProtoText.Format(back));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ProtocReadsWhatTheWriterWrites(string kind)
    {
        var message = Sample(kind);
        var text = ProtoText.Format(message);
        bool isTf = message.Descriptor.File.Package == "tensorflow";
        var bytes = Protoc.Encode(isTf ? Protoc.TfSchema : Protoc.OnnxSchema, message.Descriptor.FullName, text);
        var byProtoc = message.Descriptor.Parser.ParseFrom(bytes);
        // Compared as text: protoc's NaN is the positive quiet NaN, .NET's float.NaN has the sign bit; both write "nan".
        Assert.Equal(text, ProtoText.Format(byProtoc));
    }

    [Fact]
    public void FloatsAreWrittenShortestAndReadBackExactly()
    {
        foreach (var f in ProtoTextSamples.EdgeFloats)
        {
            var t = new Mopt.Onnx.Proto.TensorProto { FloatData = { f } };
            var text = ProtoText.Format(t);
            var back = ProtoText.Parse<Mopt.Onnx.Proto.TensorProto>(text).FloatData.Single();
            Assert.Equal(BitConverter.SingleToInt32Bits(float.IsNaN(f) ? float.NaN : f), BitConverter.SingleToInt32Bits(back));
        }
        Assert.Equal("float_data: 0.1\nfloat_data: 1\nfloat_data: -0\nfloat_data: 1e-05\nfloat_data: 1e+20\nfloat_data: inf\nfloat_data: -inf\nfloat_data: nan\n",
            ProtoText.Format(new Mopt.Onnx.Proto.TensorProto { FloatData = { 0.1f, 1f, -0f, 1e-5f, 1e20f, float.PositiveInfinity, float.NegativeInfinity, float.NaN } }));
        Assert.Equal("double_data: 0.30000000000000004\ndouble_data: 5e-324\n",
            ProtoText.Format(new Mopt.Onnx.Proto.TensorProto { DoubleData = { 0.1 + 0.2, double.Epsilon } }));
    }

    [Fact]
    public void BytesAreEscapedAsProtobufDoes()
    {
        var t = new Mopt.Onnx.Proto.TensorProto { RawData = ByteString.CopyFrom(0, 9, 10, 13, 34, 39, 92, 65, 127, 128, 255), Name = "é\"" };
        Assert.Equal("name: \"\\303\\251\\\"\"\nraw_data: \"\\000\\t\\n\\r\\\"\\'\\\\A\\177\\200\\377\"\n", ProtoText.Format(t));
    }
}
