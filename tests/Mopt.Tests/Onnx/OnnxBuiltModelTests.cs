using System.Diagnostics;
using Google.Protobuf;
using Mopt.Backend.Onnx;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;
using Mopt.Onnx.Proto;
using static Mopt.Tests.Onnx.OnnxTestSupport;
using AttrType = Mopt.Onnx.Proto.AttributeProto.Types.AttributeType;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Tests.Onnx;

/// <summary>Models built here, each for one part of the mapping: subgraphs, external data, names, constants, dims, custom ops.</summary>
public sealed class OnnxBuiltModelTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static HostTensor X(params float[] v) => HostTensor.Floats([v.Length], v);

    /// <summary>Writes <paramref name="model"/>, round-trips it through .mir, and checks ONNX Runtime gives the same bits on each input set.</summary>
    private static (ModelProto Exported, string Text) RoundTripAndRun(ModelProto model, params List<(string, HostTensor)>[] inputSets)
    {
        using var tmp = new TempDir();
        Save(model, tmp.File("in.onnx"));
        var text = RoundTrip(tmp.File("in.onnx"), tmp.File("out.onnx"));
        foreach (var inputs in inputSets)
            AssertBitIdentical(Run(tmp.File("in.onnx"), inputs), Run(tmp.File("out.onnx"), inputs));
        return (Load(tmp.File("out.onnx")), text);
    }

    // ------------------------------------------------------------------ subgraphs

    private static ModelProto IfModel()
    {
        var thenBranch = Graph("then_graph",
            [Node("Add", ["x", "c"], ["then_out"], "then_add")],
            [], [Vi("then_out", DataType.Float, 2)]);
        var elseBranch = Graph("else_graph",
            [Node("Mul", ["x", "k"], ["else_out"], "else_mul")],
            [], [Vi("else_out", DataType.Float, 2)],
            [FloatTensor("k", [2], 3, 3)]);
        var main = Graph("if_model",
            [Node("Relu", ["x0"], ["x"], "relu"), Node("If", ["cond"], ["y"], "if0", "", GraphAttr("then_branch", thenBranch), GraphAttr("else_branch", elseBranch))],
            [Vi("cond", DataType.Bool), Vi("x0", DataType.Float, 2)], [Vi("y", DataType.Float, 2)],
            [FloatTensor("c", [2], 10, 20)]);
        return Model(main, opset: 13);
    }

    [Fact]
    public void IfSubgraphsBecomeRegionsAndRoundTrip()
    {
        var (exported, text) = RoundTripAndRun(IfModel(),
            [("cond", HostTensor.Bool(true)), ("x0", X(1.5f, -2))],
            [("cond", HostTensor.Bool(false)), ("x0", X(1.5f, -2))]);

        Assert.Contains("mo.regions = [\"else_branch\", \"then_branch\"]", text);
        Assert.Contains("onnx.graph_names = [\"else_graph\", \"then_graph\"]", text);
        Assert.Contains("\"mo.yield\"", text);
        Assert.Contains("mo.names = [\"then_out\"]", text);
        Assert.Contains("loc(\"then_add\")", text);
        Assert.Contains("loc(\"k\")", text); // the subgraph's initializer

        var ifNode = exported.Graph.Node.Single(n => n.OpType == "If");
        Assert.Equal("if0", ifNode.Name);
        var then = ifNode.Attribute.Single(a => a.Name == "then_branch").G;
        var @else = ifNode.Attribute.Single(a => a.Name == "else_branch").G;
        Assert.Equal(["then_add"], then.Node.Select(n => n.Name));
        Assert.Equal(["x", "c"], then.Node[0].Input); // outer values, read directly
        Assert.Equal(["else_mul"], @else.Node.Select(n => n.Name));
        Assert.Equal(["k"], @else.Initializer.Select(t => t.Name));
        Assert.Equal("then_graph", then.Name);
        Assert.Equal(4, AllNodes(exported.Graph).Count());
    }

    [Fact]
    public void LoopBodyArgumentsAreBlockArgumentsNamedByLoc()
    {
        // acc = x0; repeat 3 times: acc = acc + x0; the body's cond passes through an Identity.
        var body = Graph("body",
            [Node("Identity", ["cond_in"], ["cond_out"], "body_cond"), Node("Add", ["acc_in", "x0"], ["acc_out"], "body_add")],
            [Vi("i", DataType.Int64), Vi("cond_in", DataType.Bool), Vi("acc_in", DataType.Float, 2)],
            [Vi("cond_out", DataType.Bool), Vi("acc_out", DataType.Float, 2)]);
        var trip = new TensorProto { Name = "trip", DataType = (int)DataType.Int64, RawData = ByteString.CopyFrom(BitConverter.GetBytes(3L)) };
        var yes = new TensorProto { Name = "yes", DataType = (int)DataType.Bool, RawData = ByteString.CopyFrom([1]) };
        var main = Graph("loop_model",
            [Node("Loop", ["trip", "yes", "x0"], ["acc"], "loop0", "", GraphAttr("body", body))],
            [Vi("x0", DataType.Float, 2)], [Vi("acc", DataType.Float, 2)], [trip, yes]);
        var (exported, text) = RoundTripAndRun(Model(main, opset: 13), [("x0", X(1, 2))]);
        Assert.Contains("^bb0(%arg1: tensor<i64> loc(\"i\"), %arg2: tensor<i1> loc(\"cond_in\"), %arg3: tensor<2xf32> loc(\"acc_in\"))", text);
        var g = exported.Graph.Node[0].Attribute[0].G;
        Assert.Equal(["i", "cond_in", "acc_in"], g.Input.Select(i => i.Name));
        Assert.Equal(["cond_out", "acc_out"], g.Output.Select(i => i.Name));
    }

    // ------------------------------------------------------------------ external data

    [SharedModelsFact]
    public void ExternalDataIsWrittenAlignedAndReadBack()
    {
        var original = Path.Combine(OnnxModels, "connxr_super_resolution", "model.onnx");
        using var tmp = new TempDir();
        var module = OnnxImporter.ImportFile(original);
        var path = tmp.File("sr.onnx");
        OnnxExporter.WriteFile(module, path, new OnnxExportOptions { ExternalData = ExternalDataMode.Always, AlignAbove = 64 * 1024 });

        Assert.True(File.Exists(path + ".data"));
        Assert.Empty(Directory.EnumerateFiles(tmp.Path, "*.tmp"));
        var written = Load(path);
        var external = written.Graph.Initializer.Where(t => t.DataLocation == TensorProto.Types.DataLocation.External).ToList();
        Assert.NotEmpty(external);
        foreach (var t in written.Graph.Initializer)
        {
            long size = HostTensor.FromProto(Load(original).Graph.Initializer.Single(o => o.Name == t.Name)).Bytes.Length;
            if (size < 1024) { Assert.True(t.HasRawData); continue; }
            Assert.False(t.HasRawData);
            var kv = t.ExternalData.ToDictionary(e => e.Key, e => e.Value);
            Assert.Equal("sr.onnx.data", kv["location"]);
            Assert.Equal(size, long.Parse(kv["length"]));
            Assert.Equal(0, long.Parse(kv["offset"]) % (size >= 64 * 1024 ? 65536 : 16));
        }
        Assert.True(new FileInfo(path).Length < 20_000);

        // ONNX Runtime reads it, with the same results; mopt reads it back to the same IR.
        var inputs = TestInputs(original, Path.Combine(Path.GetDirectoryName(original)!, "test_data_set_0"));
        AssertBitIdentical(Run(original, inputs), Run(path, inputs));
        Assert.Equal(MirPrinter.PrintToString(module), MirPrinter.PrintToString(OnnxImporter.ImportFile(path)));
    }

    [SharedModelsFact]
    public void AutoModeGoesExternalOnlyAboveTheLimit()
    {
        var original = Path.Combine(OnnxModels, "connxr_mnist", "model.onnx");
        using var tmp = new TempDir();
        var module = OnnxImporter.ImportFile(original);
        OnnxExporter.WriteFile(module, tmp.File("small.onnx"));
        Assert.False(File.Exists(tmp.File("small.onnx.data")));
        OnnxExporter.WriteFile(module, tmp.File("big.onnx"), new OnnxExportOptions { AutoExternalAbove = 10_000 });
        Assert.True(File.Exists(tmp.File("big.onnx.data")));
        var inputs = TestInputs(original, Path.Combine(Path.GetDirectoryName(original)!, "test_data_set_1"));
        AssertBitIdentical(Run(original, inputs), Run(tmp.File("big.onnx"), inputs));

        var e = Assert.Throws<MirException>(() => OnnxExporter.WriteFile(module, tmp.File("never.onnx"),
            new OnnxExportOptions { ExternalData = ExternalDataMode.Never, AutoExternalAbove = 10_000 }));
        Assert.Contains("do not fit one protobuf file", e.Message);
        Assert.False(File.Exists(tmp.File("never.onnx")));
    }

    [Fact]
    public void ExternalDataWithOffsetsIsImported()
    {
        using var tmp = new TempDir();
        var weights = new float[] { 1, 2, 3, 4 };
        var bytes = new byte[8 + 16];
        Buffer.BlockCopy(weights, 0, bytes, 8, 16);
        File.WriteAllBytes(tmp.File("w.bin"), bytes);
        var w = new TensorProto { Name = "w", DataType = (int)DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.Add(4);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "w.bin" });
        w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "8" });
        w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "16" });
        var model = Model(Graph("g", [Node("Add", ["x", "w"], ["y"], "add")], [Vi("x", DataType.Float, 4)], [Vi("y", DataType.Float, 4)], [w]));
        Save(model, tmp.File("m.onnx"));

        var module = OnnxImporter.ImportFile(tmp.File("m.onnx"));
        Assert.Equal(bytes[8..], module.Resources["w"].Data.ToArray());
        OnnxExporter.WriteFile(module, tmp.File("out.onnx"));
        var inputs = new List<(string, HostTensor)> { ("x", X(1, 1, 1, 1)) };
        AssertBitIdentical(Run(tmp.File("m.onnx"), inputs), Run(tmp.File("out.onnx"), inputs));
    }

    // ------------------------------------------------------------------ names

    [Fact]
    public void UnnamedNodesGetStableNamesAndNewOpsUniqueOnes()
    {
        var model = Model(Graph("g",
            [Node("Relu", ["x"], ["a"]), Node("Neg", ["a"], ["b"]), Node("Relu", ["b"], ["y"])],
            [Vi("x", DataType.Float, 3)], [Vi("y", DataType.Float, 3)]));
        var (exported, text) = RoundTripAndRun(model, [("x", X(1, -2, 3))]);
        Assert.Equal(["Relu_0", "Neg_1", "Relu_2"], exported.Graph.Node.Select(n => n.Name));
        Assert.Contains("loc(\"Neg_1\")", text);

        // An op a pass creates, without a name or output names, gets fresh unique ones.
        var module = Import(model);
        var func = module.MainFunction;
        var last = func.Body.Operations.Single(o => o.Location.FirstName == "Relu_2");
        var added = OpBuilder.After(last).Create("onnx.Relu", [last.Result], [last.Result.Type]);
        added.Location = Location.Unknown;
        var added2 = OpBuilder.After(added).Create("onnx.Relu", [added.Result], [last.Result.Type]);
        func.Return!.SetOperand(0, added2.Result);
        var written = OnnxExporter.ToModel(module);
        var names = written.Graph.Node.Select(n => n.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal("y", written.Graph.Output[0].Name);
        Assert.Equal("y", written.Graph.Node[^1].Output[0]); // the graph output keeps its name
        Assert.NotEqual("y", written.Graph.Node[2].Output[0]);
    }

    [Fact]
    public void OutputsThatAreInputsOrRepeatedGetIdentityNodes()
    {
        var module = MirReader.ParseText("""
            module @passthrough attributes {onnx.opset = 17 : i64} {
              func.func @main(%x: tensor<2xf32> {mo.name = "x"}) -> (tensor<2xf32> {mo.name = "a"}, tensor<2xf32> {mo.name = "b"}, tensor<2xf32> {mo.name = "c"}) {
                %0 = "onnx.Relu"(%x) : (tensor<2xf32>) -> tensor<2xf32>
                return %x, %0, %0 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
              }
            }
            """);
        using var tmp = new TempDir();
        OnnxExporter.WriteFile(module, tmp.File("p.onnx"));
        var model = Load(tmp.File("p.onnx"));
        Assert.Equal(["Relu", "Identity", "Identity"], model.Graph.Node.Select(n => n.OpType));
        Assert.Equal(8, model.IrVersion);
        Assert.Equal("mopt", model.ProducerName);
        var outputs = Run(tmp.File("p.onnx"), [("x", X(-1, 2))]);
        Assert.Equal(["a", "b", "c"], outputs.Select(o => o.Name));
        Assert.Equal(X(-1, 2).Bytes, outputs[0].Value.Bytes);
        Assert.Equal(X(0, 2).Bytes, outputs[1].Value.Bytes);
        Assert.Equal(X(0, 2).Bytes, outputs[2].Value.Bytes);
    }

    [Fact]
    public void AnInitializerThatIsAGraphOutputStaysOne()
    {
        var model = Model(Graph("g", [Node("Relu", ["x"], ["y"], "relu")], [Vi("x", DataType.Float, 2)],
            [Vi("y", DataType.Float, 2), Vi("w", DataType.Float, 2)], [FloatTensor("w", [2], 7, 8)]));
        var (exported, _) = RoundTripAndRun(model, [("x", X(-1, 1))]);
        Assert.Equal(["relu"], exported.Graph.Node.Select(n => n.Name));
        Assert.Equal(["y", "w"], exported.Graph.Output.Select(o => o.Name));
        Assert.Equal(["w"], exported.Graph.Initializer.Select(t => t.Name));
    }

    // ------------------------------------------------------------------ constants

    [Fact]
    public void ConstantNodesStayNodesAndNewConstantsBecomeInitializers()
    {
        var big = new float[300];
        for (int i = 0; i < big.Length; i++) big[i] = i * 0.5f;
        var model = Model(Graph("g",
            [
                Node("Constant", [], ["c"], "c0", "", TensorAttr("value", FloatTensor("", [2], 0.5f, -1))),
                Node("Constant", [], ["big"], "c1", "", TensorAttr("value", FloatTensor("", [300], big))),
                Node("Add", ["x", "c"], ["s"], "add"),
                Node("ReduceSum", ["big"], ["t"], "sum", "", IntAttr("keepdims", 0)),
                Node("Add", ["s", "t"], ["y"], "add2"),
            ],
            [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2)]));
        var (exported, text) = RoundTripAndRun(model, [("x", X(1, 2))]);
        Assert.Contains("\"onnx.Constant\"() {mo.node, mo.outputs = [\"c\"], value = dense<[5.000000e-01, -1.000000e+00]> : tensor<2xf32>} : () -> tensor<2xf32> loc(\"c0\")", text);
        Assert.Contains("value = dense_resource<c1.value> : tensor<300xf32>", text);
        Assert.Equal(["c0", "c1", "add", "sum", "add2"], exported.Graph.Node.Select(n => n.Name));
        Assert.Empty(exported.Graph.Initializer);
        Assert.Equal(big.SelectMany(BitConverter.GetBytes), exported.Graph.Node[1].Attribute[0].T.RawData.ToByteArray());

        // A constant made by a pass (no mo.node) is written as an initializer.
        var module = Import(model);
        var add = module.MainFunction.Body.Operations.Single(o => o.Location.FirstName == "add");
        var type = new TensorType(ElementType.F32, [2]);
        var k = OpBuilder.Before(add).ResourceConstant(module, "k", type, new byte[8], Location.Named("k"));
        add.SetOperand(1, k);
        var written = OnnxExporter.ToModel(module);
        Assert.Equal(["k"], written.Graph.Initializer.Select(t => t.Name));
        Assert.Equal("k", written.Graph.Node.Single(n => n.Name == "add").Input[1]);
    }

    // ------------------------------------------------------------------ shapes and types

    [Fact]
    public void SymbolicDimsBecomeQuestionMarksAndComeBack()
    {
        var model = Model(Graph("g",
            [Node("Relu", ["x"], ["y"], "relu")],
            [Vi("x", DataType.Float, "N", 3, null)], [Vi("y", DataType.Float, "N", 3, null)]));
        var (exported, text) = RoundTripAndRun(model,
            [("x", HostTensor.Floats([2, 3, 1], 1, -2, 3, -4, 5, -6))],
            [("x", HostTensor.Floats([1, 3, 2], -1, 2, -3, 4, -5, 6))]);
        Assert.Contains("%arg0: tensor<?x3x?xf32> {mo.name = \"x\", onnx.dim_params = [\"N\", \"\", \"\"]}", text);
        var dims = exported.Graph.Input[0].Type.TensorType.Shape.Dim;
        Assert.Equal("N", dims[0].DimParam);
        Assert.Equal(3, dims[1].DimValue);
        Assert.Equal(TensorShapeProto.Types.Dimension.ValueOneofCase.None, dims[2].ValueCase);
        Assert.Equal("N", exported.Graph.Output[0].Type.TensorType.Shape.Dim[0].DimParam);
    }

    [Fact]
    public void IntermediateTypesFollowValueInfoOrTheOpsElementType()
    {
        var g = Graph("g",
            [
                Node("Shape", ["x"], ["shape"], "shape"),
                Node("Cast", ["shape"], ["shape_f"], "cast", "", IntAttr("to", (int)DataType.Float)),
                Node("Less", ["x", "x"], ["less"], "less"),
                Node("Cast", ["less"], ["less_f"], "cast2", "", IntAttr("to", (int)DataType.Float)),
                Node("ReduceSum", ["less_f"], ["s"], "sum", "", IntAttr("keepdims", 0)),
                Node("Add", ["shape_f", "s"], ["y"], "add"),
            ],
            [Vi("x", DataType.Float, 2, 3)], [Vi("y", DataType.Float, 2)]);
        g.ValueInfo.Add(Vi("less", DataType.Bool, 2, 3));
        var (_, text) = RoundTripAndRun(Model(g), [("x", HostTensor.Floats([2, 3], 1, 2, 3, 4, 5, 6))]);
        Assert.Contains("-> tensor<*xi64> loc(\"shape\")", text);
        Assert.Contains("-> tensor<*xf32> loc(\"cast\")", text);
        Assert.Contains("-> tensor<2x3xi1> loc(\"less\")", text);
    }

    [Fact]
    public void SequencesAreOpaqueTypes()
    {
        var idx = new TensorProto { Name = "idx", DataType = (int)DataType.Int64, RawData = ByteString.CopyFrom(BitConverter.GetBytes(1L)) };
        var g = Graph("g",
            [Node("SequenceConstruct", ["x", "x2"], ["seq"], "construct"), Node("SequenceAt", ["seq", "idx"], ["y"], "at"), Node("Neg", ["x"], ["x2"], "neg")],
            [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2)], [idx]);
        var (exported, text) = RoundTripAndRun(Model(g), [("x", X(1, 2))]);
        Assert.Contains("-> !onnx.Seq<tensor<*xf32>> loc(\"construct\")", text);
        // Not topologically sorted in the file (Neg comes last): sorted on import.
        Assert.Equal(["neg", "construct", "at"], exported.Graph.Node.Select(n => n.Name));

        var seqInput = new ValueInfoProto { Name = "s", Type = new TypeProto { SequenceType = new TypeProto.Types.Sequence { ElemType = Vi("e", DataType.Float, 2).Type } } };
        var g2 = Graph("g2", [Node("SequenceAt", ["s", "idx"], ["y"], "at")], [seqInput], [Vi("y", DataType.Float, 2)], [idx.Clone()]);
        var module = Import(Model(g2));
        Assert.Equal("!onnx.Seq<tensor<2xf32>>", module.MainFunction.Arguments[0].Type.Text);
        var back = OnnxExporter.ToModel(module);
        Assert.Equal(seqInput.Type, back.Graph.Input[0].Type);

        // Tensors of element types the IR lacks (string) are dialect types too, and come back.
        var g3 = Graph("g3", [Node("Identity", ["s"], ["t"], "id")], [Vi("s", DataType.String, "N")], [Vi("t", DataType.String, "N")]);
        var strings = Import(Model(g3));
        Assert.Equal("!onnx.Tensor<?xstring>", strings.MainFunction.Arguments[0].Type.Text);
        var back3 = OnnxExporter.ToModel(MirReader.ParseText(MirPrinter.PrintToString(strings)));
        Assert.Equal(g3.Input[0], back3.Graph.Input[0]);
        Assert.Equal(g3.Output[0], back3.Graph.Output[0]);
    }

    // ------------------------------------------------------------------ custom ops and attributes

    [Fact]
    public void UnknownOpsInCustomDomainsKeepEveryAttribute()
    {
        var big = new float[400];
        var sparse = new AttributeProto
        {
            Name = "sparse", Type = AttrType.SparseTensor,
            SparseTensor = new SparseTensorProto { Values = FloatTensor("v", [1], 2), Indices = new TensorProto { DataType = (int)DataType.Int64, Dims = { 1 }, Int64Data = { 3 } }, Dims = { 5 } },
        };
        var refAttr = new AttributeProto { Name = "alpha_ref", Type = AttrType.Float, RefAttrName = "alpha" };
        var emptyStrings = new AttributeProto { Name = "no_strings", Type = AttrType.Strings };
        var node = Node("FancyOp", ["x", "", "x"], ["y", "", "z"], "fancy", "com.example",
            IntAttr("count", 3), FloatAttr("scale", 0.1f), StringAttr("mode", "fast"), IntsAttr("axes", 0, -1), FloatsAttr("weights", 0.5f, 2),
            StringsAttr("labels", "a", "b"), IntsAttr("no_ints"), FloatsAttr("no_floats"), emptyStrings,
            TensorAttr("small", FloatTensor("", [2], 1, 2)), TensorAttr("big", FloatTensor("", [400], big)), sparse, refAttr);
        node.DocString = "a custom op";
        var model = Model(Graph("custom", [node], [Vi("x", DataType.Float, 2)], [Vi("y", DataType.Float, 2), Vi("z", DataType.Float, 2)]),
            extra: [("com.example", 2)]);
        var module = Import(model);
        var text = MirPrinter.PrintToString(module);
        Assert.Contains("\"onnx.com.example.FancyOp\"(%arg0, %0, %arg0)", text);
        Assert.Contains("%0 = \"onnx.NoValue\"() : () -> none", text);
        Assert.Contains("axes = [0, -1]", text);
        Assert.Contains("count = 3 : i64", text);
        Assert.Contains("no_floats = array<f32>", text);
        Assert.Contains("no_ints = array<i64>", text);
        Assert.Contains("labels = [\"a\", \"b\"]", text);
        Assert.Contains("mo.outputs = [\"y\", \"\", \"z\"]", text);
        Assert.Contains("big = dense_resource<fancy.big> : tensor<400xf32>", text);
        Assert.Contains("small = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>", text);
        Assert.Contains("onnx.raw_attributes = [", text);
        Assert.Contains("-> (tensor<2xf32>, none, tensor<2xf32>)", text);
        Assert.Contains("com.example = 2 : i64", text);

        var back = OnnxExporter.ToModel(MirReader.ParseText(text));
        var n = back.Graph.Node.Single();
        Assert.Equal("FancyOp", n.OpType);
        Assert.Equal("com.example", n.Domain);
        Assert.Equal(node.Input, n.Input);
        Assert.Equal(node.Output, n.Output);
        Assert.Equal("a custom op", n.DocString);
        var expected = node.Attribute.OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(expected.Select(a => a.Name), n.Attribute.Select(a => a.Name));
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], n.Attribute[i]);
        Assert.Contains(back.OpsetImport, o => o.Domain == "com.example" && o.Version == 2);
    }

    [Fact]
    public void ModelMetadataAndUnmodelledPartsSurvive()
    {
        var model = IfModel();
        model.DocString = "model doc";
        model.Domain = "org.example";
        model.ModelVersion = 7;
        model.ProducerVersion = "1.0";
        model.MetadataProps.Add(new StringStringEntryProto { Key = "author", Value = "me" });
        model.Graph.DocString = "graph doc";
        var function = new FunctionProto { Name = "MyFunc", Domain = "local", Input = { "a" }, Output = { "b" } };
        function.Node.Add(Node("Relu", ["a"], ["b"]));
        function.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        model.Functions.Add(function);
        model.TrainingInfo.Add(new TrainingInfoProto { Algorithm = new GraphProto { Name = "train" } });
        model.Graph.QuantizationAnnotation.Add(new TensorAnnotation { TensorName = "y" });
        var sparseInit = new SparseTensorProto { Values = FloatTensor("sp", [1], 4), Indices = new TensorProto { Name = "sp_i", DataType = (int)DataType.Int64, Dims = { 1 }, Int64Data = { 0 } }, Dims = { 2 } };
        model.Graph.SparseInitializer.Add(sparseInit);
        model.Graph.Node.Add(Node("Add", ["y", "sp"], ["y2"], "use_sparse"));
        model.Graph.Output.Add(Vi("y2", DataType.Float, 2));

        var module = Import(model);
        var text = MirPrinter.PrintToString(module);
        Assert.Contains("onnx.functions = [dense<", text);
        Assert.Contains("onnx.metadata_props = {author = \"me\"}", text);
        Assert.Contains("onnx.doc_string = \"model doc\"", text);
        Assert.Contains("onnx.graph_doc_string = \"graph doc\"", text);
        Assert.Contains("onnx.model_version = 7 : i64", text);

        var back = OnnxExporter.ToModel(MirReader.ParseText(text));
        Assert.Equal(model.Functions, back.Functions);
        Assert.Equal(model.TrainingInfo, back.TrainingInfo);
        Assert.Equal(model.Graph.QuantizationAnnotation, back.Graph.QuantizationAnnotation);
        Assert.Equal(model.Graph.SparseInitializer, back.Graph.SparseInitializer);
        Assert.Equal(model.MetadataProps, back.MetadataProps);
        Assert.Equal(("model doc", "org.example", 7L, "1.0", "graph doc"), (back.DocString, back.Domain, back.ModelVersion, back.ProducerVersion, back.Graph.DocString));

        using var tmp = new TempDir();
        Save(model, tmp.File("meta.onnx"));
        OnnxExporter.WriteFile(MirReader.ParseText(text), tmp.File("back.onnx"));
        var inputs = new List<(string, HostTensor)> { ("cond", HostTensor.Bool(true)), ("x0", X(1, 2)) };
        AssertBitIdentical(Run(tmp.File("meta.onnx"), inputs), Run(tmp.File("back.onnx"), inputs));
    }

    // ------------------------------------------------------------------ speed

    [Fact]
    public void FortySevenMegabyteModelRoundTripsByteIdentically()
    {
        var initializers = new List<TensorProto>();
        var nodes = new List<NodeProto>();
        var rnd = new Random(5);
        string prev = "x";
        for (int i = 0; i < 47; i++)
        {
            var bytes = new byte[1 << 20];
            rnd.NextBytes(bytes);
            for (int k = 3; k < bytes.Length; k += 4) bytes[k] &= 0x3F; // finite floats
            var t = new TensorProto { Name = $"w{i}", DataType = (int)DataType.Float, Dims = { 512, 512 }, RawData = ByteString.CopyFrom(bytes) };
            initializers.Add(t);
            nodes.Add(Node("MatMul", [prev, t.Name], [$"h{i}"], $"mm{i}"));
            prev = $"h{i}";
        }
        nodes.Add(Node("Identity", [prev], ["y"], "out"));
        var model = Model(Graph("big", nodes, [Vi("x", DataType.Float, 1, 512)], [Vi("y", DataType.Float, 1, 512)], initializers));
        using var tmp = new TempDir();
        Save(model, tmp.File("big.onnx"));
        Assert.True(new FileInfo(tmp.File("big.onnx")).Length > 47_000_000);

        // Warm up the code paths once, then time a full import + export.
        OnnxExporter.WriteFile(OnnxImporter.ImportFile(tmp.File("big.onnx")), tmp.File("warm.onnx"));
        var clock = Stopwatch.StartNew();
        var module = OnnxImporter.ImportFile(tmp.File("big.onnx"));
        OnnxExporter.WriteFile(module, tmp.File("out.onnx"));
        clock.Stop();
        output.WriteLine($"import + export of a 47 MB model: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(File.ReadAllBytes(tmp.File("warm.onnx")), File.ReadAllBytes(tmp.File("out.onnx")));
        Assert.Equal(initializers[5].RawData, Load(tmp.File("out.onnx")).Graph.Initializer[5].RawData);
    }
}
