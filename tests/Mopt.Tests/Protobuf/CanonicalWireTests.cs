using System.Buffers;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mopt.Caffe.Proto;
using Mopt.Protobuf;
using Mopt.Tests.Caffe;

namespace Mopt.Tests.Protobuf;

/// <summary>
/// <see cref="CanonicalWire"/> against Google.Protobuf itself: bytes written field after field in any order (what
/// <see cref="ProtoText.ToWire"/> makes of a text: the text's order, lists unpacked) become exactly the bytes of
/// <c>ParseFrom(bytes).ToByteArray()</c>, and <see cref="ProtoText.Format(IMessage, FieldDescriptor, IReadOnlyList{ReadOnlyMemory{byte}})"/>
/// prints from them what <see cref="ProtoText.Format(IMessage)"/> prints of the parsed message; bytes it cannot settle
/// as protobuf would are refused with nothing written.
/// </summary>
public sealed class CanonicalWireTests
{
    // Out of number order, repeated scalars unpacked, a packed field (BlobShape.dim) given as single values, negative
    // int32 (10-byte varints), an enum by name, non-ASCII and escaped strings, floats written shorter or longer.
    private const string Layers = """
        layer {
          convolution_param { kernel_size: 3 pad: 1 num_output: 16 pad: 0 stride: 2 weight_filler { type: "xavier" std: 0.01 } bias_term: false }
          top: "conv1"
          bottom: "data"
          name: "conv1"
          type: "Convolution"
          include { phase: TEST }
          loss_weight: 1.5
          loss_weight: -0.0
        }
        layer {
          type: "Input"
          name: "input \"ü\" \\ tab\t"
          input_param { shape { dim: 1 dim: 3 dim: 300 dim: 300 } shape { dim: 2 } }
          top: "data"
        }
        layer {
          name: "slice"
          type: "Slice"
          slice_param { slice_point: 2 axis: -1 slice_point: 5 slice_dim: 1 }
          propagate_down: true
          propagate_down: false
          bottom: "x"
          top: "a" top: "b" top: "c"
          phase: TRAIN
        }
        layer { type: "Power" name: "power" power_param { shift: -7 power: 1e-30 scale: 3.4028235e38 } }
        """;

    private static IEnumerable<byte[]> LayerWires(string text) =>
        ProtoText.Parse<NetParameter>(text).Layer.Select((_, i) => LayerWire(text, i));

    /// <summary>The <paramref name="index"/>th layer's fields as the text has them (its own order, lists unpacked).</summary>
    private static byte[] LayerWire(string text, int index)
    {
        var net = ProtoText.ToWire(NetParameter.Descriptor, text);
        var input = new CodedInputStream(net);
        int seen = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == NetParameter.LayerFieldNumber && seen++ == index) return input.ReadBytes().ToByteArray();
            input.SkipLastField();
        }
        throw new InvalidOperationException($"no layer {index}");
    }

    [Fact]
    public void LayersWrittenInAnyOrderBecomeTheBytesProtobufWrites()
    {
        var canonical = new CanonicalWire();
        int n = 0;
        foreach (var wire in LayerWires(Layers))
        {
            var parsed = LayerParameter.Parser.ParseFrom(wire);
            Assert.NotEqual(parsed.ToByteArray(), wire); // the text's order is not protobuf's: something to put right
            var output = new ArrayBufferWriter<byte>();
            Assert.True(canonical.TryWrite(LayerParameter.Descriptor, wire, output));
            Assert.Equal(parsed.ToByteArray(), output.WrittenSpan.ToArray());
            n++;
        }
        Assert.Equal(4, n);
    }

    [Fact]
    public void TheNetPrintedFromItsLayersBytesIsTheNetPrinted()
    {
        var net = ProtoText.Parse<NetParameter>("name: \"n\"\ninput: \"data\"\nforce_backward: true\n" + Layers);
        var canonical = new CanonicalWire();
        var layers = net.Layer.Select(l =>
        {
            var output = new ArrayBufferWriter<byte>();
            Assert.True(canonical.TryWrite(LayerParameter.Descriptor, l.ToByteArray(), output));
            return (ReadOnlyMemory<byte>)output.WrittenMemory;
        }).ToList();
        var head = net.Clone();
        head.Layer.Clear();
        var field = NetParameter.Descriptor.FindFieldByNumber(NetParameter.LayerFieldNumber);
        Assert.Equal(ProtoText.Format(net), ProtoText.Format(head, field, layers));
        // the head may not set a field printed after the layers
        Assert.Throws<ArgumentException>(() => ProtoText.Format(net, field, layers));
    }

    [Fact]
    public void UnknownFieldsInTheBytesProtobufWritesAreNotPrinted()
    {
        // A layer as the writer's fallback writes it (parsed, then written by protobuf): unknown fields of the layer and of
        // its dropout_param (a varint, a string, a group) follow the known ones, and are not printed, as Format leaves them out.
        // (and name, field 1 of both messages, as a varint: a known number with another wire type is an unknown field)
        byte[] unknown = [0xB8, 0x3E, 0x07, 0xC2, 0x3E, 0x02, (byte)'h', (byte)'i', 0xCB, 0x3E, 0x08, 0x01, 0xCC, 0x3E, 0x08, 0x05];
        var dropout = new DropoutParameter { DropoutRatio = 0.25f };
        var dropoutBytes = dropout.ToByteArray().Concat(unknown).ToArray();
        var layer = new LayerParameter { Name = "drop", Type = "Dropout" };
        var layerBytes = layer.ToByteArray()
            .Concat(new byte[] { 0xE2, 0x06, (byte)dropoutBytes.Length }).Concat(dropoutBytes) // dropout_param = 108
            .Concat(unknown).ToArray();
        var parsed = LayerParameter.Parser.ParseFrom(layerBytes);
        Assert.Equal(0.25f, parsed.DropoutParam.DropoutRatio);
        Assert.False(new CanonicalWire().TryWrite(LayerParameter.Descriptor, layerBytes, new ArrayBufferWriter<byte>()));
        var written = parsed.ToByteArray();
        Assert.True(written.Length > layer.CalculateSize() + dropout.CalculateSize() + 2 * unknown.Length); // the unknown fields are in it

        var net = new NetParameter { Name = "n" };
        var field = NetParameter.Descriptor.FindFieldByNumber(NetParameter.LayerFieldNumber);
        var printed = ProtoText.Format(net, field, [written]);
        net.Layer.Add(parsed);
        Assert.Equal(ProtoText.Format(net), printed);
        Assert.Contains("dropout_ratio: 0.25", printed);
    }

    public static TheoryData<string, byte[]> Refused() => new()
    {
        // name given twice: protobuf keeps the last
        { "a singular field twice", [0x0A, 0x01, (byte)'a', 0x0A, 0x01, (byte)'b'] },
        // field 999 is not in LayerParameter
        { "an unknown field", [0xB8, 0x3E, 0x01] },
        // name (a string) as a varint
        { "another wire type", [0x08, 0x01] },
        { "a length past the end", [0x0A, 0x05, (byte)'a'] },
        { "a truncated varint", [0x50, 0x80] },
        { "a string that is not UTF-8", [0x0A, 0x01, 0xFF] },
        // loss_weight (5, float) as a packed run: not declared packed
        { "a packed run of an unpacked field", [0x2A, 0x04, 0, 0, 0x80, 0x3F] },
        // a start-group tag
        { "a group", [0x0B, 0x0C] },
        // convolution_param { num_output given twice }: refused inside a nested message after fields were written
        { "a nested refusal", [0x0A, 0x01, (byte)'c', 0xD2, 0x06, 0x04, 0x08, 0x01, 0x08, 0x02] },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void BytesItCannotSettleAsProtobufWouldAreRefusedWithNothingWritten(string what, byte[] wire)
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write(new byte[] { 42 });
        Assert.False(new CanonicalWire().TryWrite(LayerParameter.Descriptor, wire, output), what);
        Assert.Equal([42], output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Proto3FieldsWithoutPresenceAreRefused()
    {
        // Duration (proto3): seconds = 0 written explicitly parses to a default that protobuf does not write back.
        var wire = new byte[] { 0x08, 0x00 };
        Assert.Empty(Google.Protobuf.WellKnownTypes.Duration.Parser.ParseFrom(wire).ToByteArray());
        Assert.False(new CanonicalWire().TryWrite(Google.Protobuf.WellKnownTypes.Duration.Descriptor, wire, new ArrayBufferWriter<byte>()));
    }

    [SharedModelsTheory]
    [MemberData(nameof(NetNames))]
    public void EveryLayerOfTheRealNetsIsWrittenAndPrintedAsProtobufDoes(string name)
    {
        var text = File.ReadAllText(CaffeRealNets.Named(name).PrototxtPath(CaffeRealNets.Models));
        var canonical = new CanonicalWire();
        var net = ProtoText.Parse<NetParameter>(text);
        var layers = new List<ReadOnlyMemory<byte>>();
        foreach (var wire in LayerWires(text))
        {
            var output = new ArrayBufferWriter<byte>();
            Assert.True(canonical.TryWrite(LayerParameter.Descriptor, wire, output));
            Assert.Equal(LayerParameter.Parser.ParseFrom(wire).ToByteArray(), output.WrittenSpan.ToArray());
            layers.Add(output.WrittenMemory);
        }
        var head = net.Clone();
        head.Layer.Clear();
        Assert.Equal(ProtoText.Format(net), ProtoText.Format(head, NetParameter.Descriptor.FindFieldByNumber(NetParameter.LayerFieldNumber), layers));
    }

    public static TheoryData<string> NetNames() => [.. CaffeRealNets.All.Select(n => n.Name)];
}
