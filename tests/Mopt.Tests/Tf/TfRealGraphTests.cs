using Google.Protobuf;
using Mopt.Backend.Tf;
using Mopt.Frontend.Tf;
using Mopt.Ir;
using Mopt.Ir.Printing;
using Mopt.Tf.Proto;

namespace Mopt.Tests.Tf;

/// <summary>
/// Every frozen graph under shared/models/tf: it imports with the op histogram SOURCES.md lists, and
/// .pb → .mir → .pb → .mir gives the same text, with every node, input, device and Const byte as in the original.
/// </summary>
public sealed class TfRealGraphTests
{
    private static string TfModels => Path.Combine(TestPaths.SharedModels, "tf");

    /// <summary>Op counts as shared/models/SOURCES.md gives them (its "Conv2D 2, Rsqrt" style, plus the front end it names).</summary>
    public static TheoryData<string, int, string> Graphs() => new()
    {
        { "ml_kws_ds_cnn_s/DS_CNN_S.pb", 152, "Const 58, Identity 47, BiasAdd 10, FusedBatchNorm 9, Relu 9, Conv2D 5, DepthwiseConv2dNative 4, Reshape 2, AvgPool 1, Squeeze 1, MatMul 1, Softmax 1, Placeholder 1, DecodeWav 1, AudioSpectrogram 1, Mfcc 1" },
        { "ml_kws_cnn_s/CNN_S.pb", 78, "Const 26, Identity 22, Add 7, Reshape 3, Relu 3, MatMul 3, Mul 3, Conv2D 2, FusedBatchNorm 2, Rsqrt 1, Sub 1, Softmax 1, Placeholder 1, DecodeWav 1, AudioSpectrogram 1, Mfcc 1" },
        { "nnstreamer_mnist/mnist.pb", 8, "Placeholder 1, Const 2, Identity 2, MatMul 1, Add 1, Softmax 1" },
        { "utensor_cifar10_cnn/cifar10_cnn.pb", 49, "Const 20, Add 9, Conv2D 6, Relu 6, MatMul 3, MaxPool 2, Reshape 1, ArgMax 1, Placeholder 1" },
        { "tf2onnx_fc_layers/frozen.pb", 24, "Identity 9, Const 6, MatMul 3, BiasAdd 3, Relu 2, Placeholder 1" },
    };

    private static Dictionary<string, int> Histogram(string text) =>
        text.Split(", ").Select(p => p.Split(' ')).ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));

    [SharedModelsTheory]
    [MemberData(nameof(Graphs))]
    public void ImportsWithTheListedOps(string relative, int nodes, string histogram)
    {
        var module = TfImporter.ImportFile(Path.Combine(TfModels, relative));
        var func = module.MainFunction;
        var ops = func.Body.Operations.Where(o => o.Name != FuncOp.ReturnOpName).Select(o => o.Name[3..])
            .Concat(func.Arguments.Select(_ => "Placeholder")).ToList();
        Assert.Equal(nodes, ops.Count);
        var counted = ops.GroupBy(o => o).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Histogram(histogram).OrderBy(kv => kv.Key), counted.OrderBy(kv => kv.Key));
        // Every op is named after its node; every Const is a blob or a splat, never numbers.
        Assert.All(func.Body.Operations.Where(o => o.Name != FuncOp.ReturnOpName), o => Assert.IsType<NameLoc>(o.Location));
        Assert.All(func.Body.Operations.Where(o => o.Name == "tf.Const"),
            o => Assert.True(o.GetAttr("value") is DenseResourceAttr or DenseElementsAttr { IsSplat: true }, $"{o.Location}: {o.GetAttr("value")}"));
    }

    [SharedModelsTheory]
    [MemberData(nameof(Graphs))]
    public void RoundTripKeepsNodesAndConstBytes(string relative, int nodes, string histogram)
    {
        _ = histogram;
        var path = Path.Combine(TfModels, relative);
        var first = TfImporter.ImportFile(path);
        var text = MirPrinter.PrintToString(first);
        var written = TfExporter.ToGraphDef(first, "out.pb");
        var again = TfImporter.Import(TfImporter.Parse(written.ToByteArray(), "out.pb"), "out.pb");
        Assert.Equal(text, MirPrinter.PrintToString(again));

        var original = GraphDef.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal(nodes, written.Node.Count);
        var byName = written.Node.ToDictionary(n => n.Name);
        foreach (var n in original.Node)
        {
            var w = byName[n.Name];
            Assert.Equal(n.Op, w.Op);
            // "node:0" is written "node", which TensorFlow reads as the same tensor.
            Assert.Equal(n.Input.Select(i => i.EndsWith(":0", StringComparison.Ordinal) ? i[..^2] : i), w.Input);
            Assert.Equal(n.Device, w.Device);
            Assert.Equal(n.Attr.Keys.Order(StringComparer.Ordinal), w.Attr.Keys.Order(StringComparer.Ordinal));
            if (n.Op == "Const") Assert.Equal(Values(n.Attr["value"].Tensor), Values(w.Attr["value"].Tensor));
            else Assert.Equal(n.Attr.OrderBy(kv => kv.Key, StringComparer.Ordinal), w.Attr.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
    }

    /// <summary>A tensor's element bytes whichever field holds them (tensor_content, or one float filling the shape).</summary>
    private static byte[] Values(TensorProto t)
    {
        if (!t.TensorContent.IsEmpty) return t.TensorContent.ToByteArray();
        long count = t.TensorShape.Dim.Aggregate(1L, (a, d) => a * d.Size);
        var values = t.Dtype switch
        {
            DataType.DtFloat => t.FloatVal.SelectMany(BitConverter.GetBytes).ToArray(),
            DataType.DtInt32 => t.IntVal.SelectMany(BitConverter.GetBytes).ToArray(),
            DataType.DtInt64 => t.Int64Val.SelectMany(BitConverter.GetBytes).ToArray(),
            _ => throw new InvalidOperationException($"test: dtype {t.Dtype}"),
        };
        int size = values.Length / Math.Max(1, t.FloatVal.Count + t.IntVal.Count + t.Int64Val.Count);
        var full = new byte[count * size];
        for (long i = 0; i < count; i++) Array.Copy(values, Math.Min(i, values.Length / size - 1) * size, full, i * size, size);
        return full;
    }

    [SharedModelsFact]
    public void KwsGraphCutAtReshapeKeepsOnlyTheNetwork()
    {
        var module = TfImporter.ImportFile(Path.Combine(TfModels, "ml_kws_ds_cnn_s/DS_CNN_S.pb"), new TfImportOptions { Inputs = ["Reshape_1"] });
        var func = module.MainFunction;
        Assert.Equal("Reshape_1", func.ArgName(0));
        Assert.Equal(["labels_softmax"], Enumerable.Range(0, func.Type.Results.Count).Select(i => func.ResultName(i)));
        var ops = func.Body.Operations.Select(o => o.Name).ToList();
        Assert.DoesNotContain("tf.DecodeWav", ops);
        Assert.DoesNotContain("tf.Mfcc", ops);
        // 152 nodes less seven: the front end (wav_data, DecodeWav, AudioSpectrogram, Mfcc, Reshape and its shape) and
        // Reshape_1's shape; Reshape_1 is the argument (ops also holds the return).
        Assert.Equal(152 - 7, ops.Count - 1 + func.Arguments.Count);
        Assert.Equal(4, ops.Count(o => o == "tf.DepthwiseConv2dNative"));
    }
}
