using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Mopt.Backend.Onnx;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;
using Mopt.Onnx.Proto;
using AttrType = Mopt.Onnx.Proto.AttributeProto.Types.AttributeType;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Tests.Onnx;

/// <summary>One tensor: ONNX data type, shape, little-endian bytes.</summary>
public sealed record HostTensor(int DataType, long[] Shape, byte[] Bytes)
{
    public static HostTensor Floats(long[] shape, params float[] values) =>
        new((int)Mopt.Onnx.Proto.TensorProto.Types.DataType.Float, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static HostTensor Bool(bool value) => new((int)Mopt.Onnx.Proto.TensorProto.Types.DataType.Bool, [], [value ? (byte)1 : (byte)0]);

    public static HostTensor FromProto(TensorProto t)
    {
        using var reader = new OnnxTensorReader(null, "test data");
        var data = reader.Read(t, $"tensor '{t.Name}'");
        return new HostTensor(t.DataType, t.Dims.ToArray(), data.Bytes.ToArray());
    }
}

/// <summary>Helpers the ONNX tests share: ONNX Runtime runs, the .onnx → .mir → .onnx round trip, model builders.</summary>
public static class OnnxTestSupport
{
    public static string OnnxModels => Path.Combine(TestPaths.SharedModels, "onnx");

    /// <summary>A fresh temporary folder, deleted by the caller's <c>using</c>.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("mopt-onnx-").FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }

    // ------------------------------------------------------------------ round trip

    /// <summary>.onnx → module → .mir text → module → .onnx at <paramref name="output"/>; returns the printed text.</summary>
    public static string RoundTrip(string input, string output, OnnxImportOptions? import = null, OnnxExportOptions? export = null)
    {
        var module = OnnxImporter.ImportFile(input, import);
        var text = MirPrinter.PrintToString(module);
        var reparsed = MirReader.ParseText(text, Path.GetFileName(input) + ".mir");
        Assert.Equal(text, MirPrinter.PrintToString(reparsed));
        OnnxExporter.WriteFile(reparsed, output, export);
        return text;
    }

    public static ModelProto Load(string path) => ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));

    public static void Save(ModelProto model, string path) => File.WriteAllBytes(path, model.ToByteArray());

    // ------------------------------------------------------------------ ONNX Runtime

    public static InferenceSession Session(string modelPath)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        return new InferenceSession(modelPath, options);
    }

    /// <summary>Runs the model on named inputs; every output as a host tensor, in the model's output order.</summary>
    public static List<(string Name, HostTensor Value)> Run(string modelPath, IReadOnlyList<(string Name, HostTensor Value)> inputs)
    {
        using var session = Session(modelPath);
        var values = new List<OrtValue>();
        try
        {
            foreach (var (_, t) in inputs)
            {
                var v = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)t.DataType, t.Shape);
                t.Bytes.CopyTo(v.GetTensorMutableRawData());
                values.Add(v);
            }
            var outputNames = session.OutputNames.ToList();
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, inputs.Select(i => i.Name).ToList(), values, outputNames);
            var list = new List<(string, HostTensor)>();
            for (int i = 0; i < outputNames.Count; i++)
            {
                var r = results[i];
                var info = r.GetTensorTypeAndShape();
                list.Add((outputNames[i], new HostTensor((int)info.ElementDataType, info.Shape, r.GetTensorMutableRawData().ToArray())));
            }
            return list;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>The test data set's inputs, named and shaped as the model's graph inputs (a missing batch dim is added).</summary>
    public static List<(string Name, HostTensor Value)> TestInputs(string modelPath, string dataSet)
    {
        var model = Load(modelPath);
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet();
        var graphInputs = model.Graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        var list = new List<(string, HostTensor)>();
        for (int i = 0; ; i++)
        {
            var file = Path.Combine(dataSet, $"input_{i}.pb");
            if (!File.Exists(file)) break;
            var proto = OnnxTensorReader.ParseTensorFile(file);
            var tensor = HostTensor.FromProto(proto);
            var vi = proto.Name.Length > 0 ? graphInputs.FirstOrDefault(g => g.Name == proto.Name) ?? graphInputs[i] : graphInputs[i];
            var dims = vi.Type.TensorType.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : 1L).ToArray();
            if (dims.Length != tensor.Shape.Length && dims.Aggregate(1L, (a, b) => a * b) == tensor.Shape.Aggregate(1L, (a, b) => a * b))
                tensor = tensor with { Shape = dims };
            list.Add((vi.Name, tensor));
        }
        return list;
    }

    public static void AssertBitIdentical(IReadOnlyList<(string Name, HostTensor Value)> expected, IReadOnlyList<(string Name, HostTensor Value)> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, actual[i].Name);
            Assert.Equal(expected[i].Value.DataType, actual[i].Value.DataType);
            Assert.Equal(expected[i].Value.Shape, actual[i].Value.Shape);
            Assert.True(expected[i].Value.Bytes.AsSpan().SequenceEqual(actual[i].Value.Bytes), $"output '{expected[i].Name}' differs");
        }
    }

    public static float MaxAbsDiff(HostTensor a, HostTensor b)
    {
        var x = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(a.Bytes);
        var y = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(b.Bytes);
        Assert.Equal(x.Length, y.Length);
        float max = 0;
        for (int i = 0; i < x.Length; i++) max = Math.Max(max, Math.Abs(x[i] - y[i]));
        return max;
    }

    // ------------------------------------------------------------------ building models

    public static ModelProto Model(GraphProto graph, long opset = 17, long irVersion = 8, params (string Domain, long Version)[] extra)
    {
        var m = new ModelProto { IrVersion = irVersion, ProducerName = "mopt-tests", Graph = graph };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        foreach (var (d, v) in extra) m.OpsetImport.Add(new OperatorSetIdProto { Domain = d, Version = v });
        return m;
    }

    public static GraphProto Graph(string name, IEnumerable<NodeProto> nodes, IEnumerable<ValueInfoProto> inputs, IEnumerable<ValueInfoProto> outputs, IEnumerable<TensorProto>? initializers = null)
    {
        var g = new GraphProto { Name = name };
        g.Node.AddRange(nodes);
        g.Input.AddRange(inputs);
        g.Output.AddRange(outputs);
        if (initializers is not null) g.Initializer.AddRange(initializers);
        return g;
    }

    /// <summary>A tensor value info; each dim is a number, a symbolic name (string) or null (unknown).</summary>
    public static ValueInfoProto Vi(string name, DataType type, params object?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            var dim = new TensorShapeProto.Types.Dimension();
            if (d is string s) dim.DimParam = s;
            else if (d is not null) dim.DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture);
            shape.Dim.Add(dim);
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    public static NodeProto Node(string opType, string[] inputs, string[] outputs, string name = "", string domain = "", params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = opType, Name = name, Domain = domain };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        return n;
    }

    public static TensorProto FloatTensor(string name, long[] dims, params float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Float };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return t;
    }

    public static AttributeProto IntAttr(string name, long v) => new() { Name = name, Type = AttrType.Int, I = v };
    public static AttributeProto FloatAttr(string name, float v) => new() { Name = name, Type = AttrType.Float, F = v };
    public static AttributeProto StringAttr(string name, string v) => new() { Name = name, Type = AttrType.String, S = ByteString.CopyFromUtf8(v) };

    public static AttributeProto IntsAttr(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttrType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    public static AttributeProto FloatsAttr(string name, params float[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttrType.Floats };
        a.Floats.AddRange(v);
        return a;
    }

    public static AttributeProto StringsAttr(string name, params string[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttrType.Strings };
        a.Strings.AddRange(v.Select(ByteString.CopyFromUtf8));
        return a;
    }

    public static AttributeProto TensorAttr(string name, TensorProto t) => new() { Name = name, Type = AttrType.Tensor, T = t };
    public static AttributeProto GraphAttr(string name, GraphProto g) => new() { Name = name, Type = AttrType.Graph, G = g };

    /// <summary>All nodes of a graph and its subgraphs.</summary>
    public static IEnumerable<NodeProto> AllNodes(GraphProto g)
    {
        foreach (var n in g.Node)
        {
            yield return n;
            foreach (var a in n.Attribute)
                if (a.G is { } sub)
                    foreach (var inner in AllNodes(sub)) yield return inner;
        }
    }

    public static MirModule Import(ModelProto model, string? dir = null, OnnxImportOptions? options = null) =>
        OnnxImporter.Import(model, dir, "test.onnx", options);
}
