using Google.Protobuf;
using Mopt.Backend.Tf;
using Mopt.Frontend.Tf;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;
using Mopt.Tf.Proto;

namespace Mopt.Tests.Tf;

/// <summary>GraphDefs built here: every attribute kind, the tensor forms, control inputs and devices survive
/// .pb → .mir text → .pb; bad graphs are one clear error naming the node.</summary>
public sealed class TfBuiltGraphTests
{
    private static NodeDef Node(string name, string op, params string[] inputs)
    {
        var n = new NodeDef { Name = name, Op = op };
        n.Input.AddRange(inputs);
        return n;
    }

    private static TensorShapeProto Shape(params long[] dims)
    {
        var s = new TensorShapeProto();
        s.Dim.AddRange(dims.Select(d => new TensorShapeProto.Types.Dim { Size = d }));
        return s;
    }

    private static NodeDef Placeholder(string name, DataType type, TensorShapeProto shape)
    {
        var p = Node(name, "Placeholder");
        p.Attr["dtype"] = new AttrValue { Type = type };
        p.Attr["shape"] = new AttrValue { Shape = shape };
        return p;
    }

    /// <summary>A graph with every AttrValue kind on one node.</summary>
    public static GraphDef EveryKind()
    {
        var g = new GraphDef { Versions = new VersionDef { Producer = 27, MinConsumer = 12 } };
        g.Node.Add(Placeholder("x", DataType.DtFloat, Shape(-1, 4)));
        g.Node.Add(Placeholder("s", DataType.DtString, new TensorShapeProto { UnknownRank = true }));
        var splat = Node("splat", "Const");
        splat.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        splat.Attr["value"] = new AttrValue { Tensor = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(2, 3), FloatVal = { 0.5f } } };
        g.Node.Add(splat);
        var content = Node("content", "Const", "^x");
        content.Device = "/device:CPU:0";
        content.Attr["dtype"] = new AttrValue { Type = DataType.DtInt32 };
        content.Attr["value"] = new AttrValue { Tensor = new TensorProto { Dtype = DataType.DtInt32, TensorShape = Shape(2), TensorContent = ByteString.CopyFrom(1, 0, 0, 0, 255, 255, 255, 255) } };
        g.Node.Add(content);
        var odd = Node("odd", "Frobnicate", "x", "splat", "content", "^s");
        odd.Attr["s"] = new AttrValue { S = ByteString.CopyFrom(0x66, 0xFF, 0x00) };
        odd.Attr["i"] = new AttrValue { I = -7 };
        odd.Attr["f"] = new AttrValue { F = 0.1f };
        odd.Attr["b"] = new AttrValue { B = true };
        odd.Attr["type"] = new AttrValue { Type = DataType.DtQint8 };
        odd.Attr["shape"] = new AttrValue { Shape = Shape(1, -1, 3) };
        odd.Attr["norank"] = new AttrValue { Shape = new TensorShapeProto { UnknownRank = true } };
        odd.Attr["tensor"] = new AttrValue { Tensor = new TensorProto { Dtype = DataType.DtInt64, TensorShape = Shape(4), Int64Val = { 1, 2 } } };
        odd.Attr["strings"] = new AttrValue { Tensor = new TensorProto { Dtype = DataType.DtString, TensorShape = Shape(2), StringVal = { ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("b") } } };
        odd.Attr["list_i"] = new AttrValue { List = new AttrValue.Types.ListValue { I = { 1, 2 } } };
        odd.Attr["list_f"] = new AttrValue { List = new AttrValue.Types.ListValue { F = { 1.5f } } };
        odd.Attr["list_s"] = new AttrValue { List = new AttrValue.Types.ListValue { S = { ByteString.CopyFromUtf8("SAME") } } };
        odd.Attr["list_b"] = new AttrValue { List = new AttrValue.Types.ListValue { B = { true, false } } };
        odd.Attr["list_type"] = new AttrValue { List = new AttrValue.Types.ListValue { Type = { DataType.DtFloat, DataType.DtString } } };
        odd.Attr["list_shape"] = new AttrValue { List = new AttrValue.Types.ListValue { Shape = { Shape(2), new TensorShapeProto { UnknownRank = true } } } };
        odd.Attr["list_empty"] = new AttrValue { List = new AttrValue.Types.ListValue() };
        var f = new NameAttrList { Name = "body" };
        f.Attr["T"] = new AttrValue { Type = DataType.DtFloat };
        odd.Attr["func"] = new AttrValue { Func = f };
        odd.Attr["list_func"] = new AttrValue { List = new AttrValue.Types.ListValue { Func = { new NameAttrList { Name = "g" } } } };
        odd.Attr["placeholder"] = new AttrValue { Placeholder = "T" };
        odd.Attr["unset"] = new AttrValue();
        g.Node.Add(odd);
        g.Node.Add(Node("relu", "Relu", "odd:1"));
        return g;
    }

    [Fact]
    public void EveryAttributeKindRoundTripsThroughTheText()
    {
        var g = EveryKind();
        var module = TfImporter.Import(g, "kinds.pb");
        var text = MirPrinter.PrintToString(module);
        var reparsed = MirReader.ParseText(text, "kinds.mir");
        Assert.Equal(text, MirPrinter.PrintToString(reparsed));
        var back = TfExporter.ToGraphDef(reparsed, "kinds.pb");

        Assert.Equal(g.Versions, back.Versions);
        var byName = back.Node.ToDictionary(n => n.Name);
        Assert.Equal(g.Node.Select(n => n.Name).Order(StringComparer.Ordinal), byName.Keys.Order(StringComparer.Ordinal));
        foreach (var n in g.Node.Where(n => n.Op != "Const"))
        {
            Assert.Equal(n.Input, byName[n.Name].Input);
            // A tensor given by fewer values than elements is written whole, as tensor_content.
            Assert.Equal(Sorted(n.Attr).Where(kv => kv.Key != "tensor"), Sorted(byName[n.Name].Attr).Where(kv => kv.Key != "tensor"));
        }
        Assert.Equal(g.Node[3].Device, byName["content"].Device);
        Assert.Equal(g.Node[3].Input, byName["content"].Input);
        Assert.Equal(g.Node[3].Attr["value"].Tensor.TensorContent, byName["content"].Attr["value"].Tensor.TensorContent);
        Assert.Equal(g.Node[2].Attr["value"], byName["splat"].Attr["value"]);
        Assert.Equal(text, MirPrinter.PrintToString(TfImporter.Import(back, "kinds.pb")));
    }

    private static void Has(string text, string part) => Assert.True(text.Contains(part, StringComparison.Ordinal), $"no '{part}' in\n{text}");

    private static List<KeyValuePair<string, AttrValue>> Sorted(IDictionary<string, AttrValue> attrs) => attrs.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();

    [Fact]
    public void MapsEachKindAsDocumented()
    {
        var text = MirPrinter.PrintToString(TfImporter.Import(EveryKind(), "kinds.pb"));
        Has(text, "%arg0: tensor<?x4xf32>");
        Has(text, "%arg1: !tf.Tensor<*xstring>");
        Has(text, "value = dense<5.000000e-01> : tensor<2x3xf32>");
        Has(text, "tf.control_inputs = [\"x\"]");
        Has(text, "tf.device = \"/device:CPU:0\"");
        Has(text, "i = -7 : i64");
        Has(text, "type = !tf.qint8");
        Has(text, "shape = array<i64: 1, -1, 3>");
        Has(text, ", norank,"); // unit, printed bare as MLIR does
        Has(text, "list_type = [f32, !tf.string]");
        Has(text, "list_empty = []");
        Has(text, "unset = {}");
        Has(text, "placeholder = {placeholder = \"T\"}");
        Has(text, "func = {attr = {T = f32}, name = \"body\"}");
        // Fewer values than elements: TensorFlow repeats the last one.
        Has(text, "tensor = dense<[1, 2, 2, 2]> : tensor<4xi64>");
        // odd:1 is read, so odd has two results; relu, which no one consumes, is the output.
        Has(text, "%2:2 = \"tf.Frobnicate\"");
        Has(text, "loc(\"odd\")");
        Has(text, "-> (!tf.tensor {mo.name = \"relu\"})");
    }

    [Fact]
    public void OutputsCanBeNamedWithTheirIndex()
    {
        var module = TfImporter.Import(EveryKind(), "kinds.pb", new TfImportOptions { Outputs = ["odd:1", "content"] });
        Assert.Equal(["odd:1", "content"], Enumerable.Range(0, 2).Select(i => module.MainFunction.ResultName(i)));
    }

    [Theory]
    [InlineData("missing", "node 'y' (Relu): input 'nowhere' names no node")]
    [InlineData("cycle", "node 'b' (Relu): its input 'a' depends on it (a cycle")]
    [InlineData("nodtype", "node 'x' (Placeholder) has no dtype")]
    [InlineData("output", "output 'nope' names no node")]
    [InlineData("content", "node 'k' (Const): tensor_content has 4 bytes, its shape tensor<2xf32> needs 8")]
    [InlineData("values", "node 'k' (Const): the tensor has 3 values, its shape tensor<2xf32> has 2 elements")]
    public void BadGraphsNameTheNode(string which, string message)
    {
        var g = new GraphDef();
        TfImportOptions? options = null;
        switch (which)
        {
            case "missing": g.Node.Add(Node("y", "Relu", "nowhere")); break;
            case "cycle": g.Node.Add(Node("a", "Relu", "b")); g.Node.Add(Node("b", "Relu", "a")); break;
            case "nodtype": g.Node.Add(Node("x", "Placeholder")); break;
            case "output": g.Node.Add(Node("c", "NoOp")); options = new TfImportOptions { Outputs = ["nope"] }; break;
            case "content" or "values":
                var k = Node("k", "Const");
                var t = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(2) };
                if (which == "content") t.TensorContent = ByteString.CopyFrom(0, 0, 128, 63);
                else t.FloatVal.Add([1f, 2f, 3f]);
                k.Attr["value"] = new AttrValue { Tensor = t };
                g.Node.Add(k);
                break;
        }
        var e = Assert.Throws<MirException>(() => TfImporter.Import(TfImporter.Parse(g.ToByteArray(), "bad.pb"), "bad.pb", options));
        Assert.Contains("'bad.pb': " + message, e.Message);
    }

    [Fact]
    public void NotAGraphDefAndTruncatedFilesAreNamed()
    {
        Assert.Contains("not a TensorFlow GraphDef", Assert.Throws<MirException>(() => TfImporter.Parse("hello world, not a graph"u8.ToArray(), "t.pb")).Message);
        var bytes = EveryKind().ToByteArray();
        Assert.Contains("truncated", Assert.Throws<MirException>(() => TfImporter.Parse(bytes[..(bytes.Length / 2)], "t.pb")).Message);
        Assert.Contains("the file is empty", Assert.Throws<MirException>(() => TfImporter.Parse([], "t.pb")).Message);
    }
}
