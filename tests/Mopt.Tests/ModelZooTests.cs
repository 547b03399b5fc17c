using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Mopt.Backend.Onnx;
using Mopt.Backend.Runtime;
using Mopt.Bench.ModelZoo;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Ir.Printing;
using Mopt.Onnx.Proto;

namespace Mopt.Tests;

/// <summary>The benchmark model zoo (bench/ModelZoo): each model runs in ONNX Runtime, has the stated structure, is what the importer makes, and is deterministic.</summary>
public sealed class ModelZooTests
{
    public static readonly TheoryData<string> Models = new() { "resnet18", "mobilenet_v2", "densenet121", "mlp_bn", "small_cnn" };

    private static MirModule Build(string name, ulong seed = Zoo.DefaultSeed) => name switch
    {
        "resnet18" => Zoo.ResNet(seed: seed),
        "mobilenet_v2" => Zoo.MobileNetV2(seed),
        // at 64x64 (the weights do not depend on the input size) to keep the runs short
        "densenet121" => Zoo.DenseNet(seed: seed, inputSize: 64),
        "mlp_bn" => Zoo.MlpWithBatchNorm(seed),
        "small_cnn" => Zoo.SmallCnn(seed),
        _ => throw new ArgumentException(name),
    };

    private static long[] OutputShape(string name) => name switch
    {
        "resnet18" or "mobilenet_v2" or "densenet121" => [1, 1000],
        "mlp_bn" => [4, 10],
        _ => [1, 10],
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void ExportsAndRunsInOnnxRuntimeWithFiniteOutputsOfTheRightShape(string name)
    {
        var module = Build(name);
        using var runner = new OrtRunner(ModelProbes.ToOnnxBytes(module), what: name);
        Assert.Equal(["input"], runner.InputNames);
        Assert.Equal(["output"], runner.OutputNames);
        var outputs = runner.Run(RandomInputs.For(runner.Inputs, seed: 7));
        var y = outputs["output"];
        Assert.Equal(ElementType.F32, y.Element);
        Assert.Equal(OutputShape(name), y.Shape);
        var values = RandomInputs.ToDoubles(y);
        Assert.All(values, v => Assert.True(double.IsFinite(v), $"{name}: output {v} is not finite"));
        Assert.True(values.Distinct().Count() > values.Length / 2, $"{name}: the outputs are mostly equal");
        if (name == "mlp_bn")
            for (int row = 0; row < 4; row++)
                Assert.Equal(1.0, values.Skip(row * 10).Take(10).Sum(), 4);
    }

    [Fact]
    public void ResNet18HasItsNodesAndWeights()
    {
        var module = Zoo.ResNet();
        var stats = ModelStats.Of(module);
        Assert.Equal(69, stats.Nodes);
        Assert.Equal(20, stats.Count("BatchNormalization"));
        Assert.Equal(20, stats.Count("Conv"));
        Assert.Equal(17, stats.Count("Relu"));
        Assert.Equal(8, stats.Count("Add"));
        Assert.Equal(1, stats.Count("MaxPool"));
        Assert.Equal(1, stats.Count("GlobalAveragePool"));
        Assert.Equal(1, stats.Count("Flatten"));
        Assert.Equal(1, stats.Count("Gemm"));
        // torchvision's resnet18 has 11,689,512 parameters; the batch-norms' running means and variances add 9,600
        Assert.Equal(11_689_512 + 9_600, stats.Parameters);
        Assert.Equal(4 * stats.Parameters, stats.WeightBytes); // 46.8 MB
        Assert.Equal(102, stats.Initializers);
        Assert.Equal(69 + 102 + 1, stats.Operations);

        var model = OnnxExporter.ToModel(module);
        Assert.Equal(69, model.Graph.Node.Count);
        Assert.Equal(20, model.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        Assert.Equal(102, model.Graph.Initializer.Count);
        Assert.All(model.Graph.Node.Where(n => n.OpType == "Conv"), n => Assert.Equal(2, n.Input.Count)); // no bias
        Assert.Equal(17, model.OpsetImport.Single(o => o.Domain == "").Version);
        Assert.Equal("/layer1/layer1.0/conv1/Conv", model.Graph.Node[4].Name);
        Assert.Contains(model.Graph.Initializer, t => t.Name == "layer2.0.downsample.1.running_var");
    }

    [Fact]
    public void DeeperResNetsAddBasicBlocks()
    {
        var stats = ModelStats.Of(Zoo.ResNet([3, 4, 6, 3], inputSize: 64));
        Assert.Equal(4 + 16 * 7 + 3 * 2 + 3, stats.Nodes);
        Assert.Equal(1 + 16 * 2 + 3, stats.Count("BatchNormalization"));
    }

    [Fact]
    public void MobileNetV2HasDepthwiseConvsClipsAndResiduals()
    {
        var module = Zoo.MobileNetV2();
        var stats = ModelStats.Of(module);
        Assert.Equal(152, stats.Nodes);
        Assert.Equal(52, stats.Count("Conv"));
        Assert.Equal(52, stats.Count("BatchNormalization"));
        Assert.Equal(35, stats.Count("Clip"));
        Assert.Equal(10, stats.Count("Add"));

        var model = OnnxExporter.ToModel(module);
        var shapes = model.Graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());
        var depthwise = model.Graph.Node.Where(n => n.OpType == "Conv" && n.Attribute.Single(a => a.Name == "group").I > 1).ToList();
        Assert.Equal(17, depthwise.Count);
        foreach (var conv in depthwise)
        {
            var w = shapes[conv.Input[1]];
            Assert.Equal(w[0], conv.Attribute.Single(a => a.Name == "group").I); // group = channels
            Assert.Equal(1, w[1]);
        }
        // ReLU6 in the opset 11+ form: min and max are inputs, not attributes
        Assert.All(model.Graph.Node.Where(n => n.OpType == "Clip"), n =>
        {
            Assert.Equal(3, n.Input.Count);
            Assert.Empty(n.Attribute);
        });
        Assert.Equal(1280, shapes["classifier.1.weight"][1]);
        // torchvision's mobilenet_v2 has 3,504,872 parameters; 2 x 17,056 running statistics and the two Clip bounds
        Assert.Equal(3_504_872 + 2 * 17_056 + 2, stats.Parameters);

        var narrow = ModelStats.Of(Zoo.MobileNetV2(widthMultiplier: 0.5, inputSize: 96));
        Assert.Equal(152, narrow.Nodes);
        Assert.True(narrow.Parameters < stats.Parameters);
    }

    [Fact]
    public void DenseNet121HasItsLayersConcatsAndWeights()
    {
        var module = Zoo.DenseNet();
        var stats = ModelStats.Of(module);
        Assert.Equal(431, stats.Nodes);
        Assert.Equal(121, stats.Count("BatchNormalization"));
        Assert.Equal(120, stats.Count("Conv"));
        Assert.Equal(121, stats.Count("Relu"));
        Assert.Equal(58 + 4, stats.Count("Concat"));
        Assert.Equal(3, stats.Count("AveragePool"));
        Assert.Equal(1, stats.Count("Gemm"));
        // torchvision's densenet121 has 7,978,856 parameters; the batch-norms' running statistics add 2 x 41,824
        Assert.Equal(7_978_856 + 2 * 41_824, stats.Parameters);

        // The 62 batch-norms after a Concat have no layer before them; the other 59 follow a Conv.
        var afterConcat = module.AllOperations().Count(o => o.Name == "onnx.BatchNormalization"
            && o.GetOperand(0) is OpResult { Owner.Name: "onnx.Concat" });
        Assert.Equal(62, afterConcat);
        var model = OnnxExporter.ToModel(module);
        Assert.Equal(1024, model.Graph.Initializer.Single(t => t.Name == "classifier.weight").Dims[1]);
        Assert.Equal(1, model.Graph.Node.Count(n => n.Name == "/features/denseblock1/denselayer1/Concat" && n.Input.Count == 1));
    }

    [Fact]
    public void MlpAndSmallCnnHaveTheirNodes()
    {
        var mlp = ModelStats.Of(Zoo.MlpWithBatchNorm());
        Assert.Equal(11, mlp.Nodes);
        Assert.Equal(4, mlp.Count("Gemm"));
        Assert.Equal(3, mlp.Count("BatchNormalization"));
        Assert.Equal(1, mlp.Count("Softmax"));
        var gemm = OnnxExporter.ToModel(Zoo.MlpWithBatchNorm()).Graph.Node.First(n => n.OpType == "Gemm");
        Assert.Equal(1, gemm.Attribute.Single(a => a.Name == "transB").I);

        var cnn = ModelStats.Of(Zoo.SmallCnn());
        Assert.Equal(11, cnn.Nodes);
        Assert.Equal(1, cnn.Count("BatchNormalization"));
        Assert.Equal(2, cnn.Count("Conv"));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BatchNormParametersAreRandomAndInRange(string name)
    {
        var module = Build(name);
        float[] Blob(string key) => MemoryMarshal.Cast<byte, float>(module.Resources[key].Data.Span).ToArray();
        var prefixes = module.Resources.Blobs.Select(b => b.Key).Where(k => k.EndsWith(".running_var", StringComparison.Ordinal))
            .Select(k => k[..^".running_var".Length]).ToList();
        Assert.NotEmpty(prefixes);
        foreach (var p in prefixes)
        {
            var scale = Blob($"{p}.weight");
            var bias = Blob($"{p}.bias");
            var mean = Blob($"{p}.running_mean");
            var variance = Blob($"{p}.running_var");
            Assert.All(scale, v => Assert.InRange(v, 0.5f, 1.5f));
            Assert.All(variance, v => Assert.InRange(v, 0.5f, 2.0f));
            Assert.All(bias, v => Assert.InRange(v, -0.6f, 0.6f)); // N(0, 0.1), Irwin–Hall: within 6 sigma
            Assert.All(mean, v => Assert.InRange(v, -3f, 3f));   // N(0, 0.5)
            foreach (var values in new[] { scale, bias, mean, variance })
                Assert.True(values.Length < 2 || values.Distinct().Count() > 1, $"{p}: constant batch-norm parameters");
        }
        var all = prefixes.SelectMany(p => Blob($"{p}.running_mean")).Select(v => (double)v).ToArray();
        if (all.Length >= 1000)
        {
            double m = all.Average(), sd = Math.Sqrt(all.Select(v => (v - m) * (v - m)).Average());
            Assert.InRange(m, -0.05, 0.05);
            Assert.InRange(sd, 0.45, 0.55);
        }
    }

    /// <summary>The zoo builds modules exactly as the importer makes them: export then import gives the same module back.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void ExportThenImportGivesTheSameModule(string name)
    {
        var module = Build(name);
        var bytes = ModelProbes.ToOnnxBytes(module);
        var imported = OnnxImporter.Import(ModelProto.Parser.ParseFrom(bytes), null, name + ".onnx");

        var elide = new PrintOptions { ElideConstantsLargerThan = 0 };
        Assert.Equal(MirPrinter.PrintToString(module, elide), MirPrinter.PrintToString(imported, elide));
        var blobs = module.Resources.Blobs.ToList();
        var again = imported.Resources.Blobs.ToList();
        Assert.Equal(blobs.Select(b => b.Key), again.Select(b => b.Key));
        for (int i = 0; i < blobs.Count; i++)
        {
            Assert.Equal(blobs[i].Value.Alignment, again[i].Value.Alignment);
            Assert.True(blobs[i].Value.Data.Span.SequenceEqual(again[i].Value.Data.Span), $"blob '{blobs[i].Key}' differs");
        }
        if (name != "resnet18" && name != "mobilenet_v2")
            Assert.Equal(MirPrinter.PrintToString(module), MirPrinter.PrintToString(imported));

        var m = module.Op;
        Assert.Equal("onnx", m.GetString("mo.source"));
        Assert.Equal(17, m.GetInt("onnx.opset"));
        Assert.Equal(8, m.GetInt("onnx.ir_version"));
        Assert.Equal("input", module.MainFunction.ArgName(0));
        Assert.Equal("output", module.MainFunction.ResultName(0));
        Assert.All(module.AllOperations().Where(o => o.Name.StartsWith("onnx.", StringComparison.Ordinal)),
            o => Assert.NotNull(o.Location.FirstName));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TheSameSeedGivesByteIdenticalModels(string name)
    {
        var a = ModelProbes.ToOnnxBytes(Build(name));
        var b = ModelProbes.ToOnnxBytes(Build(name));
        Assert.True(a.AsSpan().SequenceEqual(b), $"{name}: two builds with the same seed differ");
        var c = ModelProbes.ToOnnxBytes(Build(name, seed: 42));
        Assert.Equal(a.Length, c.Length);
        Assert.False(a.AsSpan().SequenceEqual(c), $"{name}: another seed gives the same model");
    }

    /// <summary>
    /// The weights are the same on every machine and runtime (splitmix64 and additions only, no System.Random, no
    /// libm): their hash is pinned. A change here changes every benchmark's input.
    /// </summary>
    [Theory]
    [InlineData("small_cnn", "7445f3b67fe2bb8b193f13a684b7b3c22fb904b1c70074a1618d8adad1965913")]
    [InlineData("mlp_bn", "81ca1e014228845a65a64cd91a82c39f7afabe0b86f2d499ac3f3d460ac29c33")]
    [InlineData("resnet18", "b3f8ac4cc24856d6a422c53c2c2ea0f920ca02bd972abbe88c51b5750b0c0794")]
    [InlineData("densenet121", "d491b7d0ba163fa1597f34eccd41828146f9d6b8a40a59076d3546f616c26dc9")]
    public void WeightsArePinned(string name, string sha256)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, blob) in Build(name).Resources.Blobs)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(key));
            hash.AppendData(blob.Data.Span);
        }
        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        Assert.True(actual == sha256, $"{name}: the weights' SHA-256 is {actual}, pinned {sha256}");
    }
}
