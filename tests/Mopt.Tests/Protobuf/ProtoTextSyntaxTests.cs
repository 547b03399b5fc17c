using Google.Protobuf;
using Mopt.Onnx.Proto;
using Mopt.Protobuf;
using Mopt.Tf.Proto;

namespace Mopt.Tests.Protobuf;

/// <summary>Every form the text format allows reads to the value it stands for.</summary>
public sealed class ProtoTextSyntaxTests
{
    [Fact]
    public void BlocksListsSeparatorsAndComments()
    {
        var model = ProtoText.Parse<ModelProto>("""
            # a comment line
            ir_version: 7   # a comment after a value
            opset_import { domain: "" version: 13 }
            opset_import: { version: 3 },
            opset_import < version: 4 >;
            opset_import: < version: 5 >
            graph {
              node [ { op_type: "A" }, { op_type: "B"; name: "b", } ]
              node: [{ op_type: "C" }]
              input: []
            }
            """);
        Assert.Equal(7, model.IrVersion);
        Assert.Equal([13L, 3, 4, 5], model.OpsetImport.Select(o => o.Version));
        Assert.True(model.OpsetImport[0].HasDomain);
        Assert.Equal(["A", "B", "C"], model.Graph.Node.Select(n => n.OpType));
        Assert.Equal("b", model.Graph.Node[1].Name);
        Assert.Empty(model.Graph.Input);
    }

    [Fact]
    public void NumbersInEveryForm()
    {
        var t = ProtoText.Parse<Mopt.Onnx.Proto.TensorProto>("""
            float_data: [1, -2.5, .5, 5., 1e3, 1.5E-2, -2e+2, 2f, 1.0f, 1.5F, 0x10, 010]
            float_data: inf float_data: -INF float_data: Infinity float_data: nan float_data: -nan
            double_data: [0.1, 1e308, -4.9e-324, 3]
            int64_data: [-9223372036854775808, 9223372036854775807, 0x7FFFFFFFFFFFFFFF, -0x10, 017, -0]
            int32_data: -2147483648 int32_data: 0x7fffffff int32_data: - 5
            uint64_data: 18446744073709551615 uint64_data: 0xFFFFFFFFFFFFFFFF
            dims: []
            data_type: 1
            """);
        Assert.Equal([1f, -2.5f, 0.5f, 5f, 1000f, 0.015f, -200f, 2f, 1f, 1.5f, 16f, 10f], t.FloatData.Take(12));
        Assert.Equal([float.PositiveInfinity, float.NegativeInfinity, float.PositiveInfinity], t.FloatData.Skip(12).Take(3));
        Assert.True(float.IsNaN(t.FloatData[15]) && float.IsNaN(t.FloatData[16]));
        Assert.Equal([0.1, 1e308, -4.9e-324, 3], t.DoubleData);
        Assert.Equal([long.MinValue, long.MaxValue, long.MaxValue, -16, 15, 0], t.Int64Data);
        Assert.Equal([int.MinValue, int.MaxValue, -5], t.Int32Data);
        Assert.Equal([ulong.MaxValue, ulong.MaxValue], t.Uint64Data);
        Assert.Empty(t.Dims);
        Assert.Equal(1, t.DataType);
    }

    [Fact]
    public void BoolsEnumsAndMaps()
    {
        var node = ProtoText.Parse<NodeDef>("""
            name: "n"
            attr { key: "b" value { list { b: [true, false, t, f, True, False, 1, 0] } } }
            attr { key: "t" value { type: DT_HALF } }
            attr { key: "n" value { type: 3 } }
            attr { key: "ref" value { type: 101 } }
            attr { key: "l" value { list { type: [DT_FLOAT, 2] } } }
            attr: { key: "x" value: { i: 1 } }
            attr < key: 'x' value < i: 2 > >
            attr { key: "nothing" }
            attr { value { s: "keyless" } }
            """);
        Assert.Equal([true, false, true, false, true, false, true, false], node.Attr["b"].List.B);
        Assert.Equal(Mopt.Tf.Proto.DataType.DtHalf, node.Attr["t"].Type);
        Assert.Equal(Mopt.Tf.Proto.DataType.DtInt32, node.Attr["n"].Type);
        Assert.Equal(101, (int)node.Attr["ref"].Type);
        Assert.Equal([Mopt.Tf.Proto.DataType.DtFloat, Mopt.Tf.Proto.DataType.DtDouble], node.Attr["l"].List.Type);
        Assert.Equal(2, node.Attr["x"].I); // a key given again: the last entry wins, as in protobuf
        Assert.Equal(new AttrValue(), node.Attr["nothing"]);
        Assert.Equal("keyless", node.Attr[""].S.ToStringUtf8());
        Assert.Equal(AttributeProto.Types.AttributeType.Floats, ProtoText.Parse<AttributeProto>("type: FLOATS").Type);
        Assert.Equal(AttributeProto.Types.AttributeType.Ints, ProtoText.Parse<AttributeProto>("type: 7").Type); // proto2 enum by number
    }

    [Fact]
    public void StringEscapes()
    {
        var t = ProtoText.Parse<Mopt.Onnx.Proto.TensorProto>("""
            raw_data: "\a\b\f\n\r\t\v\\\'\"\?|\0|\7|\12|\101|\1011|\x41|\x4|\X4a|\u00e9|\U0001F600|é|"
            string_data: 'single "quoted" \''
            string_data: "adjacent " 'strings' "" " join"
            string_data: ""
            name: "\303\251\u00e9"
            """);
        byte[] expected =
        [
            7, 8, 12, 10, 13, 9, 11, (byte)'\\', (byte)'\'', (byte)'"', (byte)'?', (byte)'|', 0, (byte)'|', 7, (byte)'|', 10, (byte)'|',
            (byte)'A', (byte)'|', (byte)'A', (byte)'1', (byte)'|', (byte)'A', (byte)'|', 4, (byte)'|', (byte)'J', (byte)'|', 0xC3, 0xA9,
            (byte)'|', 0xF0, 0x9F, 0x98, 0x80, (byte)'|', 0xC3, 0xA9, (byte)'|',
        ];
        Assert.Equal(expected, t.RawData.ToByteArray());
        Assert.Equal(["single \"quoted\" '", "adjacent strings join", ""], t.StringData.Select(s => s.ToStringUtf8()));
        Assert.Equal("éé", t.Name);
    }

    [Fact]
    public void MergeAddsToAMessage()
    {
        var graph = new GraphProto { Name = "g", Node = { new NodeProto { OpType = "A" } } };
        ProtoText.Merge(graph, "node { op_type: \"B\" } name: \"h\"");
        Assert.Equal(["A", "B"], graph.Node.Select(n => n.OpType));
        Assert.Equal("h", graph.Name);
        var model = new ModelProto { Graph = new GraphProto { Name = "kept" } };
        ProtoText.Merge(model, "graph { doc_string: \"added\" }");
        Assert.Equal(("kept", "added"), (model.Graph.Name, model.Graph.DocString));
    }

    [Fact]
    public void ParseByDescriptorMakesTheMessageType()
    {
        var message = ProtoText.Parse(GraphDef.Descriptor, "versions { producer: 1 }", "g.pbtxt");
        Assert.Equal(1, Assert.IsType<GraphDef>(message).Versions.Producer);
        Assert.Equal(new NodeDef(), ProtoText.Parse<NodeDef>(""));
        Assert.Equal(new NodeDef(), ProtoText.Parse<NodeDef>("  # only a comment\n\n"));
        Assert.Equal("n", ProtoText.Parse<NodeDef>("\uFEFFname: \"n\"").Name); // a byte-order mark
    }

    [Fact]
    public void ProtoThreeDefaultsAreLeftOutAndPresenceIsKept()
    {
        Assert.Equal("", ProtoText.Format(new NodeDef { Name = "", Op = "" }));
        Assert.Equal("b: false\n", ProtoText.Format(new AttrValue { B = false })); // a oneof member has presence
        Assert.Equal("name: \"\"\n", ProtoText.Format(new GraphProto { Name = "" })); // proto2 optional: set is set
        Assert.Equal("versions {\n}\n", ProtoText.Format(new GraphDef { Versions = new VersionDef() }));
        var bytes = ByteString.CopyFromUtf8("x");
        Assert.Equal("s: \"x\"\n", ProtoText.Format(new AttrValue { S = bytes }));
    }
}
