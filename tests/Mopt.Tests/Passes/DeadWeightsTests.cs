using Mopt.Backend.Runtime;
using Mopt.Bench.ModelZoo;
using Mopt.Dialects;
using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Tests.Passes;

/// <summary>
/// No pass leaves weights behind: after any single pass on a model with batch-norms, the module holds no unused
/// constant and no unreferenced blob, and the ONNX file it writes no initializer that no node reads. The passes
/// built on the rewriter leave nothing for the pass manager's cleanup to find; ResNet-18 through --fold-bn alone is
/// no larger than its input.
/// </summary>
public sealed class DeadWeightsTests
{
    /// <summary>Passes that need input the example does not give (an input shape), with why.</summary>
    private static readonly Dictionary<string, string> NeedInput = new(StringComparer.Ordinal)
    {
        ["set-input-shape"] = "needs the input shapes to set",
    };

    /// <summary>The passes whose every rewrite goes through the rewriter: what they leave dead is erased on the spot.</summary>
    private static readonly HashSet<string> OnTheRewriter = new(StringComparer.Ordinal)
    {
        "bn-to-scale", "canonicalize", "fold-bn", "fold-constants", "fuse-conv-add-mul", "fuse-pad", "fuse-matmul-add", "reorder-slices",
    };

    /// <summary>The Graph Transform Tool's passes need a TensorFlow graph (the example is ONNX); tests/lit/tf checks them.</summary>
    private static bool IsTfTransform(string pass) => Mopt.Passes.Tf.TfTransformPasses.Factories.Any(f => f().Name == pass);

    public static TheoryData<string> Passes()
    {
        var data = new TheoryData<string>();
        foreach (var entry in PassRegistry.All)
            if (!NeedInput.ContainsKey(entry.Name) && !IsTfTransform(entry.Name)) data.Add(entry.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Passes))]
    public void NoPassLeavesUnusedWeights(string pass)
    {
        var module = Mir.Parse(File.ReadAllText(Mir.ExamplePath), "small_cnn.mir");
        var pm = new PassManager { Services = TestRuntime.Services };
        pm.Passes.Add(PassRegistry.Create(pass));
        var run = pm.Run(module).Single();

        var registry = StandardDialects.Registry;
        var unused = module.AllOperations().Where(o => registry.Has(o, OpTraits.ConstantLike) && o.IsUnused).ToList();
        Assert.True(unused.Count == 0, $"{pass}: unused constants {string.Join(", ", unused.Select(o => o.Location.FirstName ?? o.Name))}");
        var referenced = module.ReferencedResourceKeys();
        var stray = module.Resources.Blobs.Select(b => b.Key).Where(k => !referenced.Contains(k)).ToList();
        Assert.True(stray.Count == 0, $"{pass}: unreferenced blobs {string.Join(", ", stray)}");

        if (pass == "convert-onnx-to-paddle")
        {
            // the module is Paddle's now: every parameter of the written program is read by an op
            var program = Backend.Paddle.PaddleExporter.ToProgram(module, "small_cnn").Program;
            var inputs = program.Blocks[0].Ops.SelectMany(o => o.Inputs).SelectMany(v => v.Arguments).ToHashSet(StringComparer.Ordinal);
            Assert.All(program.Blocks[0].Vars.Where(v => v.Persistable && v.Type.LodTensor is not null),
                v => Assert.True(inputs.Contains(v.Name), $"{pass}: parameter {v.Name} is read by nothing"));
        }
        else
        {
            var graph = Backend.Onnx.OnnxExporter.ToModel(module).Graph;
            var read = graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
            Assert.All(graph.Initializer, i => Assert.True(read.Contains(i.Name), $"{pass}: initializer {i.Name} is read by nothing"));
        }

        if (OnTheRewriter.Contains(pass))
            Assert.DoesNotContain(run.Context.Counters, kv => kv.Key == "dead constants erased");
    }

    [Fact]
    public void APassThatOnlyMovesOperationsIsStillSweptAfterWhenItRunsFirst()
    {
        // sort-by-execution-order says it leaves the weights as they were (no sweep after it), but as the first pass the
        // module it got had never been swept: the unused constant goes, counted in its statistics.
        var module = Mir.Parse("""
            module {
              func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
                %r = "onnx.Relu"(%x) : (tensor<2xf32>) -> tensor<2xf32> loc("r")
                %c = "onnx.Constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32> loc("unused")
                return %r : tensor<2xf32>
              }
            }
            """);
        var pm = new PassManager();
        pm.Passes.Add(new SortByExecutionOrder());
        var run = pm.Run(module).Single();
        Assert.True(run.Context.WeightsPreserved);
        Assert.DoesNotContain(module.AllOperations(), o => o.Name == "onnx.Constant");
        Assert.Contains(run.Context.Counters, kv => kv.Key == "dead constants erased" && kv.Value == 1);
    }

    [Fact]
    public void TheExampleIsAModelWithBatchNorms() =>
        Assert.Equal(2, Mir.Parse(File.ReadAllText(Mir.ExamplePath)).AllOperations().Count(o => o.Name == "onnx.BatchNormalization"));

    [Fact]
    public void ResNet18ThroughFoldBnAloneIsNoLargerAndInt8IsAQuarter()
    {
        using var dir = new TempDir();
        var input = dir.File("resnet18.onnx");
        File.WriteAllBytes(input, ModelProbes.ToOnnxBytes(Zoo.ResNet()));
        long inputSize = new FileInfo(input).Length;

        var folded = dir.File("folded.onnx");
        var (exit, _, stderr) = Mir.Opt(input, "--fold-bn", "-o", folded);
        Assert.True(exit == 0, stderr);
        long foldedSize = new FileInfo(folded).Length;
        Assert.True(foldedSize <= inputSize, $"--fold-bn wrote {foldedSize} bytes from {inputSize}");
        // The 20 BNs' parameters (4 x 4,800 floats) go, the Convs gain biases (4,800 floats): the old weights are not kept.
        Assert.True(inputSize - foldedSize >= (4 - 1) * 4_800 * 4, $"--fold-bn saved only {inputSize - foldedSize} bytes");

        var quantized = dir.File("int8.onnx");
        (exit, _, stderr) = Mir.Opt(input, "--fold-bn", "--quantize-int8", "-o", quantized);
        Assert.True(exit == 0, stderr);
        long quantizedSize = new FileInfo(quantized).Length;
        Assert.True(quantizedSize < inputSize * 3 / 10, $"--fold-bn --quantize-int8 wrote {quantizedSize} bytes from {inputSize}");
    }
}
