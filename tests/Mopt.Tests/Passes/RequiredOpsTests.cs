using Mopt.Api;
using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Tests.Passes;

/// <summary>
/// <see cref="Pass.RequiredOps"/>: the pass manager does not run a pass on a module that has none of the ops it names,
/// says so under --debug, and looks at the module again after a pass that changed it.
/// </summary>
public sealed class RequiredOpsTests
{
    private const string Relu = """
        module {
          func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
            %0 = "onnx.Relu"(%x) : (tensor<2xf32>) -> tensor<2xf32>
            return %0 : tensor<2xf32>
          }
        }
        """;

    /// <summary>Needs onnx.Sigmoid (or <paramref name="alsoNeeds"/>); counts its runs and changes nothing.</summary>
    private sealed class NeedsSigmoid(string? alsoNeeds = null) : Pass
    {
        public int Runs { get; private set; }
        public override string Name => "test-needs-sigmoid";
        public override string Summary => "Needs a Sigmoid (test only)";
        public override IReadOnlyList<string> RequiredOps => alsoNeeds is null ? ["onnx.Sigmoid"] : ["onnx.Sigmoid", alsoNeeds];
        public override void Run(MirModule module, PassContext context)
        {
            Runs++;
            context.Count("ran");
            context.MarkAllPreserved();
        }
    }

    /// <summary>Turns every onnx.Relu into onnx.Sigmoid (a change the census must see).</summary>
    private sealed class ReluToSigmoid : Pass
    {
        public override string Name => "test-relu-to-sigmoid";
        public override string Summary => "Renames Relu to Sigmoid (test only)";
        public override void Run(MirModule module, PassContext context)
        {
            var relus = new List<Operation>();
            module.Op.AddNested(relus, static o => o.Name == "onnx.Relu");
            foreach (var op in relus) op.Name = "onnx.Sigmoid";
            if (relus.Count == 0) context.MarkAllPreserved();
        }
    }

    [Fact]
    public void APassWhoseOpsTheModuleLacksDoesNotRunAndChangesNothing()
    {
        var needs = new NeedsSigmoid();
        var debug = new StringWriter();
        var pm = new PassManager { Debug = debug };
        pm.Passes.Add(needs);
        var runs = pm.Run(Mir.Parse(Relu));
        Assert.Equal(0, needs.Runs);
        Assert.True(runs.Single().Context.PreservedAll);
        Assert.Equal("nothing changed", runs.Single().Context.Summarize());
        Assert.Contains("[test-needs-sigmoid] not run: the module has no onnx.Sigmoid", debug.ToString());
        Assert.DoesNotContain("[test-needs-sigmoid] running", debug.ToString());
    }

    [Fact]
    public void OneOfTheNamedOpsIsEnough()
    {
        var needs = new NeedsSigmoid(alsoNeeds: "onnx.Relu");
        var pm = new PassManager();
        pm.Passes.Add(needs);
        pm.Run(Mir.Parse(Relu));
        Assert.Equal(1, needs.Runs);
    }

    [Fact]
    public void TheModuleIsLookedAtAgainAfterAPassChangedIt()
    {
        var before = new NeedsSigmoid();
        var after = new NeedsSigmoid();
        var pm = new PassManager();
        pm.Passes.AddRange([before, new ReluToSigmoid(), after]);
        pm.Run(Mir.Parse(Relu));
        Assert.Equal(0, before.Runs);
        Assert.Equal(1, after.Runs);
    }

    [Fact]
    public void AnOpInsideASubgraphCounts()
    {
        const string nested = """
            module {
              func.func @main(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
                %0 = "onnx.If"(%c) ({
                  %1 = "onnx.Sigmoid"(%x) : (tensor<2xf32>) -> tensor<2xf32>
                  "onnx.Yield"(%1) : (tensor<2xf32>) -> ()
                }, {
                  "onnx.Yield"(%x) : (tensor<2xf32>) -> ()
                }) : (tensor<i1>) -> tensor<2xf32>
                return %0 : tensor<2xf32>
              }
            }
            """;
        var needs = new NeedsSigmoid();
        var pm = new PassManager();
        pm.Passes.Add(needs);
        pm.Run(Mir.Parse(nested));
        Assert.Equal(1, needs.Runs);
    }

    [Theory]
    [InlineData("fuse-pad", "onnx.Pad")]
    [InlineData("fold-bn", "onnx.BatchNormalization")]
    [InlineData("bn-to-scale", "onnx.BatchNormalization")]
    [InlineData("fuse-conv-add-mul", "onnx.Add")]
    [InlineData("fuse-matmul-add", "onnx.MatMul")]
    [InlineData("caffe-merge-bn", "caffe.BatchNorm")]
    public void DeploysPassesNameTheOpsTheyWorkOn(string pass, string op)
    {
        Assert.Contains(op, PassRegistry.Create(pass).RequiredOps ?? []);
    }
}
