using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Tests;

/// <summary>The pass manager: order, verification after each pass, hooks, and the two bundled passes.</summary>
public sealed class PassManagerTests
{
    private const string IdentityChain = """
        module {
          func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
            %0 = "onnx.Identity"(%x) : (tensor<2xf32>) -> tensor<2xf32> loc("id0")
            %1 = "onnx.Identity"(%0) : (tensor<2xf32>) -> tensor<2xf32> loc("id1")
            %2 = "onnx.Identity"(%1) : (tensor<2xf32>) -> tensor<?xf32> loc("widen")
            %3 = "onnx.Relu"(%1) : (tensor<2xf32>) -> tensor<2xf32> loc("relu")
            return %3 : tensor<2xf32>
          }
        }
        """;

    [Fact]
    public void PassThatBreaksTheIrIsReportedByName()
    {
        var m = Mir.Parse(IdentityChain);
        var pm = new PassManager();
        pm.Passes.Add(new BreakIrPass());
        var e = Assert.Throws<MirException>(() => pm.Run(m));
        Assert.StartsWith("the IR is broken after pass 'test-break-ir': ", e.Message);
        Assert.Contains("returns tensor<99xf64> as result #0 but @main declares tensor<2xf32>", e.Message);
    }

    [Fact]
    public void BrokenIrIsNotReportedWhenVerifyEachIsOff()
    {
        var m = Mir.Parse(IdentityChain);
        var pm = new PassManager { VerifyEach = false };
        pm.Passes.Add(new BreakIrPass());
        var runs = pm.Run(m);
        Assert.Single(runs);
        Assert.Equal("1 broken", runs[0].Context.Summarize());
        Assert.Throws<MirException>(() => Verifier.Verify(m));
    }

    /// <summary>The op-name census a pass asks for goes to the passes after while none changes the module, and no further.</summary>
    [Fact]
    public void TheOpNameCensusIsHandedOnUntilAPassChangesTheModule()
    {
        var m = Mir.Parse(IdentityChain);
        var first = new CensusProbePass();
        var second = new CensusProbePass();
        var afterChange = new CensusProbePass();
        var pm = new PassManager();
        pm.Passes.AddRange([first, second, new Canonicalize(), afterChange]);
        pm.Run(m);
        Assert.Null(first.HandedOver);
        Assert.True(first.Asked!.Contains("onnx.Identity"));
        Assert.Same(first.Asked, second.HandedOver);
        Assert.Same(first.Asked, second.Asked);
        Assert.Null(afterChange.HandedOver); // canonicalize removed two Identity ops: a census of the module as it is now
        Assert.NotSame(first.Asked, afterChange.Asked);
        Assert.True(afterChange.Asked!.Contains("onnx.Relu"));
        Assert.False(afterChange.Asked.Contains("onnx.Neg"));
        Assert.True(afterChange.Asked.ContainsAny(["onnx.Add", "onnx.Relu"]));
        Assert.False(afterChange.Asked.ContainsAny(["onnx.Add", "onnx.Mul"]));
    }

    [Fact]
    public void PassThatFailsIsReportedByNameWithoutATrace()
    {
        var m = Mir.Parse(IdentityChain);
        var pm = new PassManager();
        pm.Passes.Add(new ThrowingPass(new InvalidOperationException("weights are not constant")));
        var e = Assert.Throws<MirException>(() => pm.Run(m));
        Assert.Equal("pass 'test-throw' failed: weights are not constant", e.Message);
        Assert.Null(e.Position);
        Assert.Equal("error: pass 'test-throw' failed: weights are not constant", e.Format());
    }

    [Fact]
    public void ABugInAPassIsNotDisguisedAsAUserError()
    {
        var m = Mir.Parse(IdentityChain);
        var pm = new PassManager();
        pm.Passes.Add(new ThrowingPass(new NullReferenceException("oops")));
        Assert.Throws<NullReferenceException>(() => pm.Run(m));
    }

    [Fact]
    public void PassesRunInOrderWithHooksAroundEach()
    {
        var m = Mir.Parse(IdentityChain);
        var log = new List<string>();
        var debug = new StringWriter();
        var pm = new PassManager
        {
            Debug = debug,
            BeforePass = (p, _) => log.Add("before " + p.Name),
            AfterPass = (p, _) => log.Add("after " + p.Name),
        };
        pm.Passes.Add(new RecordingPass("one", log));
        pm.Passes.Add(new RecordingPass("two", log));
        var runs = pm.Run(m);
        Assert.Equal(["before one", "run one", "after one", "before two", "run two", "after two"], log);
        Assert.Equal(["one", "two"], runs.Select(r => r.Pass.Name));
        Assert.Equal(5, runs[0].Context.Counters.Single(kv => kv.Key == "ops seen").Value);
        Assert.Contains("[one] running one", debug.ToString());
        Assert.Contains("  hello from two", debug.ToString());
        Assert.Contains("[two] 5 ops seen", debug.ToString());
    }

    [Fact]
    public void CanonicalizeRemovesIdentitiesOfTheSameType()
    {
        var m = Mir.Parse(IdentityChain);
        var pm = new PassManager();
        pm.Passes.Add(PassRegistry.Create("canonicalize"));
        var runs = pm.Run(m);
        var text = Mir.Print(m);
        Assert.DoesNotContain("loc(\"id0\")", text);
        Assert.DoesNotContain("loc(\"id1\")", text);
        Assert.Contains("%0 = \"onnx.Identity\"(%arg0) : (tensor<2xf32>) -> tensor<?xf32> loc(\"widen\")", text);
        Assert.Contains("%1 = \"onnx.Relu\"(%arg0)", text);
        var context = runs[0].Context;
        Assert.Equal(2, context.Counters.Single(kv => kv.Key == "Identity removed").Value);
        Assert.Contains(context.Skips, s => s.StartsWith("widen: input type tensor<2xf32> differs from output type tensor<?xf32>", StringComparison.Ordinal));
    }

    [Fact]
    public void DceRemovesDeadPureOperationsAndTheirBlobs()
    {
        var m = Mir.Parse("""
            module {
              func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
                %w = "onnx.Constant"() {value = dense_resource<w> : tensor<2xf32>} : () -> tensor<2xf32>
                %a = "onnx.Add"(%x, %w) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
                %p = "tf.Print"(%x) : (tensor<2xf32>) -> tensor<2xf32>
                %u = "custom.Op"(%x) : (tensor<2xf32>) -> tensor<2xf32>
                "onnx.NoResult"(%x) : (tensor<2xf32>) -> ()
                return %x : tensor<2xf32>
              }
            }

            {-#
              dialect_resources: {
                builtin: {
                  w: "0x040000000000803F00000040",
                  unused: "0x0400000001"
                }
              }
            #-}
            """);
        var pm = new PassManager();
        pm.Passes.Add(PassRegistry.Create("dce"));
        var runs = pm.Run(m);
        var names = m.AllOperations().Select(o => o.Name).ToList();
        Assert.Equal(["tf.Print", "custom.Op", "onnx.NoResult", "func.return"], names);
        Assert.Equal(0, m.Resources.Count);
        var summary = runs[0].Context.Summarize();
        Assert.Equal("2 operations removed, 2 blobs removed, 9 blob bytes freed", summary);
    }

    [Fact]
    public void ExampleAfterCanonicalizeAndDceStillVerifiesAndRoundTrips()
    {
        var m = Ir.Parsing.MirReader.ParseFile(Mir.ExamplePath);
        int before = m.AllOperations().Count();
        var pm = new PassManager();
        pm.Passes.AddRange(PipelineParser.Parse("canonicalize,dce"));
        pm.Run(m);
        Assert.Equal(before - 2, m.AllOperations().Count()); // the Identity and the unused Sigmoid
        Mir.AssertRoundTrip(m, out var text);
        Assert.DoesNotContain("onnx.Identity", text);
        Assert.DoesNotContain("Sigmoid", text);
    }

    [Fact]
    public void APassThatChangedNothingIsNotVerifiedAgain()
    {
        var m = Mir.Parse(IdentityChain);
        var pm = new PassManager();
        pm.Passes.Add(PassRegistry.Create("canonicalize")); // removes the Identities: verified
        pm.Passes.Add(new PreservingPass());                // changes nothing: the module is the one just verified
        pm.Passes.Add(PassRegistry.Create("canonicalize")); // nothing left to apply: says so, not verified either
        pm.Passes.Add(new RecordingPass("counts", [])); // says nothing: verified, as every pass was before
        var runs = pm.Run(m);
        Assert.Equal([true, false, false, true], runs.Select(r => r.Verified));
        Assert.False(runs[0].Context.PreservedAll);
        Assert.True(runs[2].Context.PreservedAll);
    }

    [Fact]
    public void TheFirstPassIsVerifiedEvenWhenItChangedNothing()
    {
        // The input has not been verified by the pass manager: a pass that changed nothing does not vouch for it.
        var m = Mir.Parse(IdentityChain);
        m.MainFunction.Return!.GetOperand(0).Type = new TensorType(ElementType.F64, [99]);
        var pm = new PassManager();
        pm.Passes.Add(new PreservingPass());
        var e = Assert.Throws<MirException>(() => pm.Run(m));
        Assert.StartsWith("the IR is broken after pass 'test-preserve': ", e.Message);
    }

    [Fact]
    public void APassThatChangedSomethingAfterOneThatDidNotIsVerified()
    {
        var m = Mir.Parse(IdentityChain);
        var pm = new PassManager();
        pm.Passes.Add(new PreservingPass());
        pm.Passes.Add(new BreakIrPass());
        var e = Assert.Throws<MirException>(() => pm.Run(m));
        Assert.StartsWith("the IR is broken after pass 'test-break-ir': ", e.Message);
    }

    [Fact]
    public void ABrokenRewriteIsStillCaught()
    {
        // The pattern reports its rewrite: the pass does not say it preserved everything, and the verifier sees the break.
        var m = Mir.Parse(IdentityChain);
        var pm = new PassManager();
        pm.Passes.Add(new PreservingPass());
        pm.Passes.Add(new DriverPass(new BreakReluPattern(reportRewrite: true)));
        var e = Assert.Throws<MirException>(() => pm.Run(m));
        Assert.StartsWith("the IR is broken after pass 'test-driver': ", e.Message);
    }

    [Fact]
    public void APatternThatChangesTheIrButReportsNoRewriteIsAnError()
    {
        // Else its pass would say it preserved everything and the change would go unverified.
        var m = Mir.Parse(IdentityChain);
        var pm = new PassManager();
        pm.Passes.Add(new DriverPass(new BreakReluPattern(reportRewrite: false)));
        var e = Assert.Throws<MirException>(() => pm.Run(m));
        Assert.Equal("pass 'test-driver' failed: pattern 'Relu broken' changed the IR at onnx.Relu but reported no rewrite", e.Message);
    }

    [Fact]
    public void APassThatSaysItChangedNothingIsTakenAtItsWord()
    {
        // What the opt-in means: a pass that says so wrongly is not verified (the default, saying nothing, always is).
        var m = Mir.Parse(IdentityChain);
        var pm = new PassManager();
        pm.Passes.Add(new RecordingPass("first", []));
        pm.Passes.Add(new PreservingPass(breakIt: true));
        var runs = pm.Run(m);
        Assert.Equal([true, false], runs.Select(r => r.Verified));
        Assert.Throws<MirException>(() => Verifier.Verify(m));
    }

    [Fact]
    public void PassContextSummary()
    {
        var c = new PassContext();
        Assert.Equal("nothing changed", c.Summarize());
        c.Count("folded", 20);
        var op = new Operation("onnx.Conv", [], [], null, Location.Named("Conv_12"));
        c.Skip(op, "weight not constant");
        Assert.Equal("20 folded, 1 skipped (Conv_12: weight not constant)", c.Summarize());
        for (int i = 0; i < 6; i++) c.Skip(new Operation("onnx.Relu", [], []), "r" + i);
        Assert.EndsWith("; 2 more)", c.Summarize());
    }
}
