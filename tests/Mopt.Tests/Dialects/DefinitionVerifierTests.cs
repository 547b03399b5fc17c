using Mopt.Dialects;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using static Mopt.Tests.Onnx.OnnxTestSupport;
using DataType = Mopt.Onnx.Proto.TensorProto.Types.DataType;

namespace Mopt.Tests.Dialects;

/// <summary>
/// The check of operations against their definitions that mopt-opt runs on its input: operand counts and attribute
/// kinds. Real models must load; a malformed attribute in an ONNX file is an error naming the op and the node.
/// </summary>
public sealed class DefinitionVerifierTests
{
    public static TheoryData<string> RealModels()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(OnnxModels, "*.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(OnnxModels, file));
        return data;
    }

    [SharedModelsTheory]
    [MemberData(nameof(RealModels))]
    public void RealModelsMatchTheirDefinitions(string model)
    {
        // The pytorch-converted models are opset 6: their attributes and operand counts are the old versions'.
        var module = OnnxImporter.ImportFile(Path.Combine(OnnxModels, model));
        Assert.Empty(DefinitionVerifier.Check(module, StandardDialects.Registry).Select(e => e.Message));
    }

    [Fact]
    public void BenchmarkZooModelsMatchTheirDefinitions()
    {
        foreach (var module in new[] { Bench.ModelZoo.Zoo.ResNet(), Bench.ModelZoo.Zoo.MobileNetV2(), Bench.ModelZoo.Zoo.MlpWithBatchNorm(), Bench.ModelZoo.Zoo.SmallCnn() })
            Assert.Empty(DefinitionVerifier.Check(module, StandardDialects.Registry).Select(e => $"{module.Name}: {e.Message}"));
    }

    [Fact]
    public void ExamplesMatchTheirDefinitions()
    {
        var files = Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot(), "examples"), "*.mir").ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
            Assert.Empty(DefinitionVerifier.Check(Mopt.Ir.Parsing.MirReader.ParseFile(file), StandardDialects.Registry).Select(e => $"{file}: {e.Message}"));
    }

    [Fact]
    public void AMalformedAttributeInAnOnnxFileNamesTheNode()
    {
        using var dir = new TempDir();
        var graph = Graph("g",
            [Node("Conv", ["x", "w"], ["y"], "conv1", "", Onnx.OnnxTestSupport.FloatAttr("group", 1f))],
            [Vi("x", DataType.Float, 1, 1, 2, 2)], [Vi("y", DataType.Float, 1, 1, 2, 2)],
            [FloatTensor("w", [1, 1, 1, 1], 2f)]);
        var path = dir.File("bad.onnx");
        Save(Model(graph), path);

        var (exit, _, stderr) = Mir.Opt(path, "-o", dir.File("out.onnx"));
        Assert.Equal(1, exit);
        Assert.Equal("error: 'onnx.Conv' (conv1): attribute 'group' must be an integer, but is the float 1", stderr.Trim());
        Assert.False(File.Exists(dir.File("out.onnx")));
    }

    [Fact]
    public void EveryProblemIsCounted()
    {
        var module = Mir.Parse("""
            module {
              func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
                %a = "onnx.Relu"(%x, %x) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc("two_inputs")
                %b = "onnx.Elu"(%a) {alpha = "big"} : (tensor<2xf32>) -> tensor<2xf32> loc("string_alpha")
                %c = "onnx.Elu"(%b) {alpha = 2 : i64} : (tensor<2xf32>) -> tensor<2xf32> loc("integer_alpha_is_fine")
                %d = "custom.Relu"(%c, %c, %c) {alpha = "any"} : (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
                return %d : tensor<2xf32>
              }
            }
            """);
        var problems = DefinitionVerifier.Check(module, StandardDialects.Registry);
        Assert.Equal(new[] { "two_inputs", "string_alpha" }, problems.Select(p => p.Op.Location.FirstName!).ToArray());
        var e = Assert.Throws<MirException>(() => DefinitionVerifier.Verify(module, StandardDialects.Registry));
        Assert.Equal("'onnx.Relu' (two_inputs): takes 1 operand, but has 2 (and 1 more problems)", e.Message);
    }
}
