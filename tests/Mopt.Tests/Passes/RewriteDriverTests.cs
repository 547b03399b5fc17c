using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Tests.Passes;

/// <summary>
/// The greedy driver (MLIR's GreedyPatternRewriteDriver): a worklist, not sweeps; what a rewrite touches is tried
/// again; a bound on rewrites with a note; failures reported only for operations still there.
/// </summary>
public sealed class RewriteDriverTests
{
    private const string Chain = """
        module {
          func.func @main(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
            %a = "onnx.Relu"(%x) : (tensor<4xf32>) -> tensor<4xf32> loc("a")
            %b = "onnx.Relu"(%a) : (tensor<4xf32>) -> tensor<4xf32> loc("b")
            %i = "onnx.Identity"(%b) : (tensor<4xf32>) -> tensor<4xf32> loc("i")
            %c = "onnx.Relu"(%i) : (tensor<4xf32>) -> tensor<4xf32> loc("c")
            %d = "onnx.Relu"(%c) : (tensor<4xf32>) -> tensor<4xf32> loc("d")
            %e = "onnx.Relu"(%x) : (tensor<4xf32>) -> tensor<4xf32> loc("e")
            return %d, %e : tensor<4xf32>, tensor<4xf32>
          }
        }
        """;

    /// <summary>Never applies; records each operation it is tried on, and gives a reason for "b".</summary>
    private sealed class Recorder(List<string> tried) : RewritePattern
    {
        public override string Name => "never";
        public override string? Root => "onnx.Relu";

        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            tried.Add(op.Location.FirstName!);
            return op.Location.FirstName == "b" && rewriter.NotifyMatchFailure(op, "b is never rewritten");
        }
    }

    /// <summary>Replaces an Identity by its input.</summary>
    private sealed class DropIdentity : RewritePattern
    {
        public override string Name => "Identity dropped";
        public override string? Root => "onnx.Identity";

        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            rewriter.ReplaceOp(op, op.GetOperand(0));
            return true;
        }
    }

    /// <summary>Always "rewrites" a Relu in place: a pattern set that never settles.</summary>
    private sealed class Restless : RewritePattern
    {
        public override string Name => "touched";
        public override string? Root => "onnx.Relu";

        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            rewriter.ModifyInPlace(op, () => op.SetAttr("n", new IntegerAttr((op.GetInt("n") ?? 0) + 1, ElementType.I64)));
            return true;
        }
    }

    [Fact]
    public void EachOperationIsTriedOnceAndWhatARewriteTouchesAgain()
    {
        var module = Mir.Parse(Chain);
        var tried = new List<string>();
        var context = new PassContext();
        long rewrites = GreedyPatternRewriteDriver.Apply(module, [new Recorder(tried), new DropIdentity()], context);

        Assert.Equal(1, rewrites);
        Assert.Equal(1, context.Counters.Single(kv => kv.Key == "Identity dropped").Value);
        // No second sweep: only b, which lost its reader, is tried again, at once; c, whose operand changed, was still
        // to come, and comes once.
        Assert.Equal(["a", "b", "b", "c", "d", "e"], tried);
        // "b" is still there, so its reason is reported, once.
        Assert.Equal(["b: b is never rewritten"], context.Skips);
    }

    /// <summary>Replaces a Neg by an Identity of its input (the Identity is new: its patterns are asked for then).</summary>
    private sealed class NegToIdentity : RewritePattern
    {
        public override string Name => "Neg made Identity";
        public override string? Root => "onnx.Neg";

        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            var identity = rewriter.Create("onnx.Identity", [op.GetOperand(0)], [op.Result.Type]);
            rewriter.ReplaceOp(op, identity);
            return true;
        }
    }

    [Fact]
    public void PatternsGivenPerNameAreAskedOnceForEachNameTheRunMeets()
    {
        var module = Mir.Parse("""
            module {
              func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
                %a = "onnx.Neg"(%x) : (tensor<4xf32>) -> tensor<4xf32> loc("a")
                %b = "onnx.Relu"(%a) : (tensor<4xf32>) -> tensor<4xf32> loc("b")
                %c = "onnx.Neg"(%b) : (tensor<4xf32>) -> tensor<4xf32> loc("c")
                return %c : tensor<4xf32>
              }
            }
            """);
        var asked = new List<string>();
        IReadOnlyList<RewritePattern> PatternsFor(string name)
        {
            asked.Add(name);
            return name switch
            {
                "onnx.Neg" => [new NegToIdentity()],
                "onnx.Identity" => [new DropIdentity()],
                _ => [],
            };
        }
        var context = new PassContext();
        long rewrites = GreedyPatternRewriteDriver.Apply(module, PatternsFor, context);

        // Both Negs became Identities, which were then dropped: patterns for an op made mid-run apply too.
        Assert.Equal(4, rewrites);
        Assert.Equal(["onnx.Relu", "func.return"], module.AllOperations().Select(o => o.Name));
        // Each name once, in the order met (the seed walks the function, then the Identity a rewrite made).
        Assert.Equal(["onnx.Neg", "onnx.Relu", "func.return", "onnx.Identity"], asked);
    }

    [Fact]
    public void ReplacingErasesWhatItLeavesDead()
    {
        var module = Mir.Parse("""
            module {
              func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
                %c = "onnx.Constant"() {value = dense<1.0> : tensor<4xf32>} : () -> tensor<4xf32> loc("c")
                %s = "onnx.Add"(%x, %c) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> loc("s")
                %i = "onnx.Identity"(%s) : (tensor<4xf32>) -> tensor<4xf32> loc("i")
                return %x : tensor<4xf32>
              }
            }
            """);
        GreedyPatternRewriteDriver.Apply(module, [new DropIdentity()], new PassContext());
        // The unused Identity went, then the Add it alone read, then the constant only the Add read.
        Assert.Equal(["func.return"], module.AllOperations().Select(o => o.Name));
    }

    [Fact]
    public void ABoundStopsPatternsThatNeverSettleWithANote()
    {
        var module = Mir.Parse(Chain);
        var notes = new StringWriter();
        var context = new PassContext(notes: notes);
        long rewrites = GreedyPatternRewriteDriver.Apply(module, [new Restless()], context, "restless", maxRewrites: 7);
        Assert.Equal(7, rewrites);
        Assert.Equal(7, context.Counters.Single(kv => kv.Key == "touched").Value);
        Assert.Contains("restless: stopped after 7 rewrites with patterns still applying", notes.ToString());
    }

    [Fact]
    public void APatternThatErasesItsRootButSaysItDidNotIsAnError()
    {
        var module = Mir.Parse(Chain);
        var e = Assert.Throws<InvalidOperationException>(() =>
            GreedyPatternRewriteDriver.Apply(module, [new LyingPattern()], new PassContext()));
        Assert.Contains("erased onnx.Identity but reported no rewrite", e.Message);
    }

    private sealed class LyingPattern : RewritePattern
    {
        public override string Name => "liar";
        public override string? Root => "onnx.Identity";

        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            rewriter.ReplaceOp(op, op.GetOperand(0));
            return false;
        }
    }

    /// <summary>Points a Relu past every Identity before it, in place, between StartModification and FinalizeModification.</summary>
    private sealed class BypassIdentities : RewritePattern
    {
        public override string Name => "identities bypassed";
        public override string? Root => "onnx.Relu";

        public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
        {
            var input = op.GetOperand(0);
            while (input is OpResult { Owner: { Name: "onnx.Identity" } identity }) input = identity.GetOperand(0);
            if (input == op.GetOperand(0)) return false;
            var modification = rewriter.StartModification(op);
            op.SetOperand(0, input);
            op.SetAttr("bypassed", BoolAttr.True);
            rewriter.FinalizeModification(modification);
            return true;
        }
    }

    [Fact]
    public void AChangeBetweenStartAndFinalizeModificationErasesTheChainItLeftDeadAndKeepsWhatIsStillRead()
    {
        var module = Mir.Parse("""
            module {
              func.func @main(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
                %i1 = "onnx.Identity"(%x) : (tensor<4xf32>) -> tensor<4xf32> loc("i1")
                %i2 = "onnx.Identity"(%i1) : (tensor<4xf32>) -> tensor<4xf32> loc("i2")
                %r = "onnx.Relu"(%i2) : (tensor<4xf32>) -> tensor<4xf32> loc("r")
                %j = "onnx.Identity"(%x) : (tensor<4xf32>) -> tensor<4xf32> loc("j")
                %s = "onnx.Relu"(%j) : (tensor<4xf32>) -> tensor<4xf32> loc("s")
                return %r, %j : tensor<4xf32>, tensor<4xf32>
              }
            }
            """);
        long rewrites = GreedyPatternRewriteDriver.Apply(module, [new BypassIdentities()], new PassContext());

        Assert.Equal(2, rewrites);
        var names = module.MainFunction!.Body.Operations.Select(o => o.Location.FirstName ?? o.Name).ToList();
        // i2, then i1 through it, left dead and erased (nested erasures); j is returned, so it stays
        Assert.Equal(["r", "j", "s", FuncOp.ReturnOpName], names);
        Assert.All(module.MainFunction.Body.Operations.Where(o => o.Name == "onnx.Relu"), r => Assert.Equal(BoolAttr.True, r.GetAttr("bypassed")));
        Verifier.Verify(module);
    }
}
