using Google.Protobuf;
using Mopt.Onnx.Proto;
using TfProto = Mopt.Tf.Proto;

namespace Mopt.Tests.Protobuf;

/// <summary>Messages of every kind the tests write and read back: each field type, edge values, nesting, maps, oneofs.</summary>
public static class ProtoTextSamples
{
    /// <summary>Every byte value, so each escape the writer can produce is read back.</summary>
    public static ByteString AllBytes => ByteString.CopyFrom([.. Enumerable.Range(0, 256).Select(i => (byte)i)]);

    public static readonly float[] EdgeFloats =
    [
        0f, -0f, 1f, -1f, 0.1f, 1f / 3, 3.4028235e38f, -3.4028235e38f, 1.17549435e-38f, float.Epsilon, 16777216f, 1e-5f,
        1e20f, 123456.79f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 0.345968902111f,
    ];

    public static readonly double[] EdgeDoubles =
    [
        0, -0.0, 0.1, 0.1 + 0.2, 1.0 / 3, double.MaxValue, double.MinValue, double.Epsilon, 2.2250738585072014e-308, 1e300,
        9007199254740993, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 1e-7,
    ];

    public static TensorProto OnnxTensor()
    {
        var t = new TensorProto
        {
            Name = "weights \"quoted\" 'single' back\\slash\ttab\nnewline é 漢字 😀",
            DataType = (int)TensorProto.Types.DataType.Float,
            DocString = "",
            RawData = AllBytes,
            DataLocation = TensorProto.Types.DataLocation.External,
            Segment = new TensorProto.Types.Segment { Begin = long.MinValue, End = long.MaxValue },
        };
        t.Dims.Add([1, 0, -1, long.MaxValue]);
        t.FloatData.Add(EdgeFloats);
        t.DoubleData.Add(EdgeDoubles);
        t.Int32Data.Add([int.MinValue, -1, 0, 1, int.MaxValue]);
        t.Int64Data.Add([long.MinValue, long.MaxValue]);
        t.Uint64Data.Add([0UL, ulong.MaxValue]);
        t.StringData.Add(AllBytes);
        t.StringData.Add(ByteString.Empty);
        t.StringData.Add(ByteString.CopyFromUtf8("plain"));
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "w.bin" });
        return t;
    }

    public static AttributeProto OnnxAttribute()
    {
        var a = new AttributeProto
        {
            Name = "alpha", Type = AttributeProto.Types.AttributeType.Graph, F = 0.01f, I = -7, S = AllBytes, T = OnnxTensor(),
            G = OnnxGraph(withSubgraph: false),
        };
        a.Floats.Add([1.5f, -0f, float.NaN]);
        a.Ints.Add([3, 3]);
        a.Strings.Add(ByteString.CopyFromUtf8("a"));
        a.Tensors.Add(new TensorProto { Name = "empty" });
        return a;
    }

    public static NodeProto OnnxNode()
    {
        var n = new NodeProto { Name = "conv1", OpType = "Conv", Domain = "" };
        n.Input.Add(["x", "w", ""]);
        n.Output.Add("y");
        n.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        n.Attribute.Add(new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = 1e-5f });
        return n;
    }

    public static GraphProto OnnxGraph(bool withSubgraph = true)
    {
        var g = new GraphProto { Name = "main", DocString = "doc" };
        g.Node.Add(OnnxNode());
        if (withSubgraph)
            g.Node.Add(new NodeProto { OpType = "If", Attribute = { new AttributeProto { Name = "then_branch", G = new GraphProto { Name = "then" } } } });
        g.Initializer.Add(new TensorProto { Name = "w", DataType = 1, Dims = { 2 }, FloatData = { 1, 2 } });
        g.Input.Add(new ValueInfoProto
        {
            Name = "x",
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor
                {
                    ElemType = 1,
                    Shape = new TensorShapeProto
                    {
                        Dim =
                        {
                            new TensorShapeProto.Types.Dimension { DimParam = "N" },
                            new TensorShapeProto.Types.Dimension { DimValue = 3 },
                            new TensorShapeProto.Types.Dimension { Denotation = "DATA_CHANNEL" },
                        },
                    },
                },
            },
        });
        g.Output.Add(new ValueInfoProto { Name = "y" });
        return g;
    }

    public static ModelProto OnnxModel()
    {
        var m = new ModelProto { IrVersion = 8, ProducerName = "mopt", ProducerVersion = "0.10", ModelVersion = 0, Graph = OnnxGraph() };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        m.MetadataProps.Add(new StringStringEntryProto { Key = "k", Value = "v" });
        return m;
    }

    public static TfProto.TensorProto TfTensor()
    {
        var t = new TfProto.TensorProto
        {
            Dtype = TfProto.DataType.DtHalf,
            TensorShape = new TfProto.TensorShapeProto { Dim = { new TfProto.TensorShapeProto.Types.Dim { Size = -1, Name = "batch" } } },
            TensorContent = AllBytes,
            Float8Val = ByteString.CopyFrom(0, 0x7F, 0x80, 0xFF),
        };
        t.HalfVal.Add([0, 0x3C00, 0xFFFF]);
        t.FloatVal.Add(EdgeFloats);
        t.DoubleVal.Add(EdgeDoubles);
        t.Int64Val.Add([long.MinValue, 0, long.MaxValue]);
        t.Uint32Val.Add([0u, uint.MaxValue]);
        t.Uint64Val.Add([0UL, ulong.MaxValue]);
        t.BoolVal.Add([true, false, true]);
        t.StringVal.Add([ByteString.Empty, AllBytes]);
        return t;
    }

    public static TfProto.AttrValue TfAttrList() => new()
    {
        List = new TfProto.AttrValue.Types.ListValue
        {
            S = { ByteString.CopyFromUtf8("loc:@weight") },
            I = { 1, -2, long.MaxValue },
            F = { 0.5f, float.NegativeInfinity },
            B = { true, false },
            Type = { TfProto.DataType.DtFloat, (TfProto.DataType)101 }, // DT_FLOAT_REF: a number the enum does not name
            Shape = { new TfProto.TensorShapeProto { UnknownRank = true } },
            Tensor = { new TfProto.TensorProto { Dtype = TfProto.DataType.DtInt32, IntVal = { 7 } } },
            Func = { new TfProto.NameAttrList { Name = "f", Attr = { ["x"] = new TfProto.AttrValue { I = 1 } } } },
        },
    };

    public static TfProto.NodeDef TfNode()
    {
        var n = new TfProto.NodeDef { Name = "conv/Conv2D", Op = "Conv2D", Device = "/device:CPU:0", ExperimentalType = ByteString.CopyFrom(1, 2) };
        n.Input.Add(["input", "weights/read", "^control"]);
        n.Attr["T"] = new TfProto.AttrValue { Type = TfProto.DataType.DtFloat };
        n.Attr["strides"] = TfAttrList();
        n.Attr["padding"] = new TfProto.AttrValue { S = ByteString.CopyFromUtf8("SAME") };
        n.Attr["use_cudnn_on_gpu"] = new TfProto.AttrValue { B = true };
        n.Attr["alpha"] = new TfProto.AttrValue { F = 0.2f };
        n.Attr["i"] = new TfProto.AttrValue { I = -1 };
        n.Attr["value"] = new TfProto.AttrValue { Tensor = TfTensor() };
        n.Attr["shape"] = new TfProto.AttrValue { Shape = new TfProto.TensorShapeProto() };
        n.Attr["func"] = new TfProto.AttrValue { Func = new TfProto.NameAttrList { Name = "body" } };
        n.Attr["ph"] = new TfProto.AttrValue { Placeholder = "T" };
        n.Attr["empty"] = new TfProto.AttrValue();
        n.Attr[""] = new TfProto.AttrValue { B = false };
        return n;
    }

    public static TfProto.GraphDef TfGraph()
    {
        var g = new TfProto.GraphDef
        {
            Versions = new TfProto.VersionDef { Producer = 27, MinConsumer = 0, BadConsumers = { 1, 2 } },
            Version = 0,
            Library = new TfProto.FunctionDefLibrary { Function = { ByteString.CopyFrom(0x0A, 0x00) } },
        };
        g.Node.Add(TfNode());
        g.Node.Add(new TfProto.NodeDef { Name = "input", Op = "Placeholder" });
        return g;
    }

    /// <summary>Each message kind, named for the test's display.</summary>
    public static IEnumerable<(string Name, IMessage Message)> All()
    {
        yield return ("onnx.TensorProto", OnnxTensor());
        yield return ("onnx.AttributeProto", OnnxAttribute());
        yield return ("onnx.NodeProto", OnnxNode());
        yield return ("onnx.GraphProto", OnnxGraph());
        yield return ("onnx.ModelProto", OnnxModel());
        yield return ("onnx.ModelProto (empty)", new ModelProto());
        yield return ("tensorflow.TensorProto", TfTensor());
        yield return ("tensorflow.AttrValue (list)", TfAttrList());
        yield return ("tensorflow.NodeDef", TfNode());
        yield return ("tensorflow.GraphDef", TfGraph());
        yield return ("tensorflow.GraphDef (empty)", new TfProto.GraphDef());
    }
}
