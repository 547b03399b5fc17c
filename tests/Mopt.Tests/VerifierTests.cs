using Mopt.Ir;

namespace Mopt.Tests;

/// <summary>The verifier on IR broken by hand: each problem is found and named.</summary>
public sealed class VerifierTests
{
    private static readonly TensorType T2 = new(ElementType.F32, [2]);

    private static (MirModule M, FuncOp F, OpBuilder B) NewMain(MirType[]? args = null, MirType[]? results = null)
    {
        var m = MirModule.Create();
        var f = m.AddFunction("main", args ?? [T2], results ?? [T2]);
        return (m, f, OpBuilder.AtEnd(f.Body));
    }

    private static string VerifyFails(MirModule m, string? context = null) =>
        Assert.Throws<MirException>(() => Verifier.Verify(m, context)).Message;

    [Fact]
    public void WellFormedModulePasses()
    {
        var (m, f, b) = NewMain();
        var relu = b.Create("onnx.Relu", [f.Arguments[0]], [T2]);
        b.Return([relu.Result]);
        Verifier.Verify(m);
        Assert.Empty(Verifier.Check(m));
    }

    [Fact]
    public void UseBeforeDefinition()
    {
        var (m, f, b) = NewMain();
        var first = b.Create("onnx.Relu", [f.Arguments[0]], [T2], null, Location.Named("Relu_0"));
        var second = b.Create("onnx.Neg", [first.Result], [T2], null, Location.Named("Neg_1"));
        b.Return([second.Result]);
        // Move Neg before the Relu it reads.
        f.Body.Reorder([second, first, f.Return!]);
        var message = VerifyFails(m);
        Assert.Contains("'onnx.Neg' at \"Neg_1\": operand #0 is not defined before this use", message);
    }

    [Fact]
    public void ValueOfAnotherFunctionIsOutOfScope()
    {
        var m = MirModule.Create();
        var g = m.AddFunction("g", [T2], []);
        OpBuilder.AtEnd(g.Body).Return([]);
        var f = m.AddFunction("main", [], [T2]);
        OpBuilder.AtEnd(f.Body).Return([g.Arguments[0]]);
        var message = VerifyFails(m);
        Assert.Contains("'func.return': operand #0 is not defined before this use (or not in scope)", message);
    }

    [Fact]
    public void ReturnTypeMismatch()
    {
        var (m, f, b) = NewMain(results: [new TensorType(ElementType.F16, [2])]);
        b.Return([f.Arguments[0]]);
        var message = VerifyFails(m);
        Assert.Contains("returns tensor<2xf32> as result #0 but @main declares tensor<2xf16>", message);
    }

    [Fact]
    public void ReturnCountMismatch()
    {
        var (m, f, b) = NewMain();
        b.Return([f.Arguments[0], f.Arguments[0]]);
        Assert.Contains("returns 2 values but @main declares 1 results", VerifyFails(m));
    }

    [Fact]
    public void MissingReturn()
    {
        var (m, f, b) = NewMain();
        b.Create("onnx.Relu", [f.Arguments[0]], [T2]);
        Assert.Contains("@main does not end with a return", VerifyFails(m));
    }

    [Fact]
    public void ReturnBeforeTheEndOfItsBlock()
    {
        var (m, f, b) = NewMain();
        b.Return([f.Arguments[0]], Location.Named("early"));
        b.Return([f.Arguments[0]]);
        Assert.Contains("'func.return' at \"early\": must be the last operation in the parent block", VerifyFails(m));
        Assert.Single(Verifier.Check(m));
    }

    [Fact]
    public void OperationAfterTheReturn()
    {
        var (m, f, b) = NewMain();
        var ret = b.Return([f.Arguments[0]]);
        b.Create("onnx.Relu", [f.Arguments[0]], [T2]);
        var errors = Verifier.Check(m);
        Assert.Same(ret, errors[0].Op);
        Assert.Contains("must be the last operation in the parent block", errors[0].Message);
        Assert.Contains(errors, e => e.Message.Contains("@main does not end with a return"));
    }

    [Fact]
    public void ReturnTwiceInParsedInputPointsAtTheFirst()
    {
        var e = Assert.Throws<MirException>(() => Mir.Parse("""
            module {
              func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {
                return %a : tensor<2xf32>
                return %a : tensor<2xf32>
              }
            }
            """, "v.mir"));
        Assert.Contains("'func.return': must be the last operation in the parent block", e.Message);
        Assert.Equal(("v.mir", 3, 5), (e.Position!.File, e.Position.Line, e.Position.Column));
    }

    [Fact]
    public void RegisteredTerminatorMustBeLastWhenTheRegistryIsGiven()
    {
        var (m, f, b) = NewMain();
        var sub = b.Create("tst.subgraph", [], []);
        var inner = OpBuilder.AtEnd(sub.AddRegion().AddBlock());
        var yield = inner.Create("mo.yield", [], [], null, Location.Named("y"));
        inner.Create("tst.after", [], []);
        b.Return([f.Arguments[0]]);
        // Without a registry only func.return is known to end a block.
        Assert.Empty(Verifier.Check(m));
        var errors = Verifier.Check(m, Mopt.Dialects.StandardDialects.Registry);
        Assert.Same(yield, Assert.Single(errors).Op);
        Assert.Contains("'mo.yield' at \"y\": must be the last operation in the parent block",
            Assert.Throws<MirException>(() => Verifier.Verify(m, null, Mopt.Dialects.StandardDialects.Registry)).Message);
    }

    [Fact]
    public void FunctionTypeDisagreesWithArguments()
    {
        var (m, f, b) = NewMain();
        b.Return([f.Arguments[0]]);
        f.Arguments[0].Type = new TensorType(ElementType.F32, [3]);
        f.Return!.SetOperand(0, f.Arguments[0]);
        var message = VerifyFails(m);
        Assert.Contains("@main argument #0 is tensor<3xf32> but its type says tensor<2xf32>", message);

        f.Body.AddArgument(T2);
        Assert.Contains("@main has 2 arguments but its type lists 1", VerifyFails(m));
    }

    [Fact]
    public void DenseResourceWithoutBlob()
    {
        var (m, _, b) = NewMain(args: []);
        var c = b.Constant(new DenseResourceAttr(T2, "nowhere"), T2, Location.Named("w"));
        b.Return([c]);
        var message = VerifyFails(m);
        Assert.Contains("'onnx.Constant' at \"w\": attribute 'value' points at resource 'nowhere', which the module does not have", message);
    }

    [Fact]
    public void BlobOfWrongSize()
    {
        var (m, _, b) = NewMain(args: []);
        var c = b.ResourceConstant(m, "w", T2, new byte[12]);
        b.Return([c]);
        Assert.Contains("resource 'w' holds 12 bytes but tensor<2xf32> needs 8", VerifyFails(m));
    }

    [Fact]
    public void ResourceInsideNestedAttributesIsChecked()
    {
        var (m, f, b) = NewMain();
        var op = b.Create("tst.op", [], [], [new NamedAttr("list", ArrayAttr.Of([DictionaryAttr.From([new NamedAttr("w", new DenseResourceAttr(T2, "gone"))])]))]);
        b.Return([f.Arguments[0]]);
        Assert.Contains("points at resource 'gone'", VerifyFails(m));
        Assert.Same(op, Verifier.Check(m)[0].Op);
    }

    [Fact]
    public void DenseOfWrongSize()
    {
        var (m, f, b) = NewMain();
        b.Create("tst.op", [], [], [new NamedAttr("v", new DenseElementsAttr(T2, new byte[4 * 3], false))]);
        b.Return([f.Arguments[0]]);
        Assert.Contains("attribute 'v' holds 12 bytes but tensor<2xf32> needs 8", VerifyFails(m));
    }

    [Fact]
    public void ContextAndCountOfFurtherProblemsAreReported()
    {
        var (m, f, b) = NewMain(args: [], results: [T2, T2]);
        b.Constant(new DenseResourceAttr(T2, "a"), T2);
        b.Constant(new DenseResourceAttr(T2, "b"), T2);
        b.Return([]);
        var message = VerifyFails(m, "after my-pass");
        Assert.StartsWith("after my-pass: 'onnx.Constant'", message);
        Assert.Contains("(and 2 more problems)", message);
        Assert.Equal(3, Verifier.Check(m).Count);
    }

    [Fact]
    public void NestedRegionSeesOuterValuesButNotLaterOnes()
    {
        var (m, f, b) = NewMain();
        var loop = b.Create("tst.loop", [], []);
        var block = loop.AddRegion().AddBlock();
        var later = b.Create("onnx.Relu", [f.Arguments[0]], [T2]);
        var inner = OpBuilder.AtEnd(block);
        inner.Create("tst.use", [f.Arguments[0]], []);
        b.Return([later.Result]);
        Verifier.Verify(m);

        inner.Create("tst.use", [later.Result], [], null, Location.Named("bad use"));
        Assert.Contains("'tst.use' at \"bad use\": operand #0 is not defined before this use", VerifyFails(m));
    }

    [Fact]
    public void ValuesOfANestedRegionAreNotVisibleAfterIt()
    {
        var (m, f, b) = NewMain();
        var loop = b.Create("tst.loop", [], []);
        var block = loop.AddRegion().AddBlock();
        var innerValue = OpBuilder.AtEnd(block).Create("tst.make", [], [T2]).Result;
        b.Return([innerValue]);
        Assert.Contains("'func.return': operand #0 is not defined before this use", VerifyFails(m));
    }

    [Fact]
    public void VerifierErrorOnParsedInputPointsAtTheOperation()
    {
        var e = Assert.Throws<MirException>(() => Mir.Parse("""
            module {
              func.func @main(%a: tensor<2xf32>) -> tensor<3xf32> {
                return %a : tensor<2xf32>
              }
            }
            """, "v.mir"));
        Assert.Contains("returns tensor<2xf32> as result #0 but @main declares tensor<3xf32>", e.Message);
        Assert.Equal(new SourcePosition("v.mir", 3, 5, e.Position!.Offset), e.Position);
    }
}
