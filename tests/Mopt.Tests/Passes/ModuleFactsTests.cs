using Mopt.Api;
using Mopt.Ir;
using Mopt.Ir.Printing;
using Mopt.Passes;
using Mopt.Tests.Caffe;

namespace Mopt.Tests.Passes;

/// <summary>
/// <see cref="ModuleFacts"/>: the pass manager keeps what a pass established until a pass changes the module without
/// establishing it again; a Caffe or Paddle lowering establishes <see cref="ModuleFacts.TypesInferred"/>, and on every
/// real net that is true (infer-shapes refines nothing after it), so --pipeline=deploy's infer-shapes skips its walk.
/// </summary>
public sealed class ModuleFactsTests
{
    private const string Relu = """
        module {
          func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
            %0 = "onnx.Relu"(%x) : (tensor<2xf32>) -> tensor<2xf32>
            return %0 : tensor<2xf32>
          }
        }
        """;

    /// <summary>Establishes <see cref="ModuleFacts.TypesInferred"/>; says it changed the module unless told otherwise.</summary>
    private sealed class Establishing(bool preserve) : Pass
    {
        public override string Name => "test-establish";
        public override string Summary => "Establishes a fact (test only)";
        public override void Run(MirModule module, PassContext context)
        {
            context.Establish(ModuleFacts.TypesInferred);
            if (preserve) context.MarkAllPreserved();
        }
    }

    /// <summary>Records the facts it was given; changes the module or says it did not.</summary>
    private sealed class Probe(bool preserve) : Pass
    {
        public List<ModuleFacts> Seen { get; } = [];
        public override string Name => "test-probe";
        public override string Summary => "Records the facts before it (test only)";
        public override void Run(MirModule module, PassContext context)
        {
            Seen.Add(context.FactsBefore);
            if (preserve) context.MarkAllPreserved();
        }
    }

    private static List<ModuleFacts> FactsSeen(params Pass[] before)
    {
        var probe = new Probe(preserve: true);
        var pm = new PassManager();
        pm.Passes.AddRange(before);
        pm.Passes.Add(probe);
        pm.Run(Mir.Parse(Relu));
        return probe.Seen;
    }

    [Fact]
    public void AFactLastsUntilAPassChangesTheModuleWithoutEstablishingIt()
    {
        Assert.Equal([ModuleFacts.None], FactsSeen());
        Assert.Equal([ModuleFacts.TypesInferred], FactsSeen(new Establishing(preserve: false)));
        Assert.Equal([ModuleFacts.TypesInferred], FactsSeen(new Establishing(preserve: false), new Probe(preserve: true), new Probe(preserve: true)));
        Assert.Equal([ModuleFacts.None], FactsSeen(new Establishing(preserve: false), new Probe(preserve: false)));
        // Established by a pass that changed nothing: added to what held.
        Assert.Equal([ModuleFacts.TypesInferred], FactsSeen(new Establishing(preserve: true)));
    }

    [Fact]
    public void OutsideAPassManagerNothingIsKnownAndInferShapesRuns()
    {
        var m = Mir.Parse("""
            module {
              func.func @main(%x: tensor<2xf32>) -> tensor<*xf32> {
                %0 = "onnx.Relu"(%x) : (tensor<2xf32>) -> tensor<*xf32>
                return %0 : tensor<*xf32>
              }
            }
            """);
        var context = new PassContext();
        new InferShapes().Run(m, context);
        Assert.False(context.PreservedAll);
        Assert.Contains("1 results refined", context.Summarize(), StringComparison.Ordinal);
    }

    [Fact]
    public void InferShapesAfterTheFactSaysSoUnderDebugAndChangesNothing()
    {
        var debug = new StringWriter();
        var pm = new PassManager { Debug = debug };
        pm.Passes.Add(new Establishing(preserve: false));
        pm.Passes.Add(new InferShapes());
        var runs = pm.Run(Mir.Parse(Relu));
        Assert.True(runs[1].Context.PreservedAll);
        Assert.Contains("every result type is already inferred", debug.ToString(), StringComparison.Ordinal);
    }

    public static TheoryData<string> Nets() => new(CaffeRealNets.All.Select(n => n.Name));

    /// <summary>The fact's premise on every real Caffe net: after the lowering, inferring every op again refines nothing.</summary>
    [SharedModelsTheory]
    [MemberData(nameof(Nets))]
    public void CaffeLoweringLeavesEveryTypeInferred(string name)
    {
        var net = CaffeRealNets.Named(name);
        var model = Model.Load(net.PrototxtPath(CaffeRealNets.Models), new LoadOptions { CaffeWeights = net.CaffeModelPath(CaffeRealNets.Models) });
        AssertLoweringLeavesTypesInferred(model.Module);
    }

    public static TheoryData<string> PaddleModels() => new(["paddle2onnx_fit_a_line/__model__", "paddlelite_simple_model/model.pdmodel", "paddlemobile_resnet_cifar/__model__"]);

    [SharedModelsTheory]
    [MemberData(nameof(PaddleModels))]
    public void PaddleLoweringLeavesEveryTypeInferred(string file)
    {
        var model = Model.Load(Path.Combine(TestPaths.SharedModels, "paddle", file));
        AssertLoweringLeavesTypesInferred(model.Module);
    }

    private static void AssertLoweringLeavesTypesInferred(MirModule module)
    {
        var probe = new Probe(preserve: true);
        var pm = new PassManager();
        pm.Passes.Add(PassRegistry.Create("convert-to-onnx"));
        pm.Passes.Add(probe);
        pm.Run(module);
        Assert.Equal([ModuleFacts.TypesInferred], probe.Seen);
        var before = MirPrinter.PrintToString(module);
        Assert.Equal(0, InferShapes.Infer(module, new PassContext(), keepConflicts: false, quiet: true));
        Assert.Equal(before, MirPrinter.PrintToString(module));
    }
}
