using Mopt.Dialects;
using Mopt.Ir;

namespace Mopt.Tests.Dialects;

/// <summary>
/// A dialect that defines each operation when first asked (as the onnx dialect does, so that a run builds only the
/// definitions of the operators it meets): what it answers, when it calls its definer, and the mistakes it rejects.
/// </summary>
public sealed class LazyDialectTests
{
    private static (Dialect Dialect, List<string> Defined) Counting(params string[] names)
    {
        var defined = new List<string>();
        var dialect = new Dialect("t", "test ops", names, name =>
        {
            defined.Add(name);
            return new OpDefinition(name) { Traits = OpTraits.Pure };
        });
        return (dialect, defined);
    }

    [Fact]
    public void DefinesAnOperationOnceWhenFirstAsked()
    {
        var (dialect, defined) = Counting("t.a", "t.b", "t.c");
        Assert.Empty(defined);
        Assert.True(dialect.Defines("t.b"));
        Assert.Empty(defined); // knowing the name does not define it

        var first = dialect.Find("t.b");
        Assert.Same(first, dialect.Find("t.b"));
        Assert.Equal(["t.b"], defined);
        Assert.Null(dialect.Find("t.z"));
        Assert.Equal(["t.b"], defined);

        // Listing every definition defines the rest, each once, in name order.
        Assert.Equal(["t.a", "t.b", "t.c"], dialect.Ops.Select(o => o.Name));
        Assert.Equal(["t.b", "t.a", "t.c"], defined);
    }

    [Fact]
    public void TheRegistryFindsLazyAndEagerDialectsAlike()
    {
        var (lazy, _) = Counting("t.a");
        var eager = new Dialect("u", "test ops", [new OpDefinition("u.a") { Traits = OpTraits.HasEffects }]);
        var registry = new DialectRegistry([lazy, eager]);
        Assert.True(registry.IsPure(Mir.Parse("""
            module {
              func.func @main(%x: tensor<1xf32>) -> tensor<1xf32> {
                %y = "t.a"(%x) : (tensor<1xf32>) -> tensor<1xf32>
                return %y : tensor<1xf32>
              }
            }
            """).MainFunction.Body.Operations[0]));
        Assert.True(registry.Find("u.a")!.Has(OpTraits.HasEffects));
        Assert.Null(registry.Find("v.a"));
    }

    [Fact]
    public void RejectsNamesOutsideTheDialectTwiceOrAWrongDefinition()
    {
        Assert.Contains("not in dialect 't'", Assert.Throws<ArgumentException>(() => new Dialect("t", "", ["tt.a"], n => new OpDefinition(n))).Message);
        Assert.Contains("defined twice", Assert.Throws<ArgumentException>(() => new Dialect("t", "", ["t.a", "t.a"], n => new OpDefinition(n))).Message);
        var wrong = new Dialect("t", "", ["t.a"], _ => new OpDefinition("t.b"));
        Assert.Contains("defined t.b when asked for t.a", Assert.Throws<InvalidOperationException>(() => wrong.Find("t.a")).Message);
    }

    [Fact]
    public void TheOnnxDialectBuildsOnlyWhatItIsAskedFor()
    {
        // Every name is known without building a definition; each definition found carries its traits and interfaces.
        Assert.True(OnnxDialect.Dialect.Defines("onnx.Conv"));
        Assert.True(OnnxDialect.Dialect.Defines(OnnxDialect.NoValueOp));
        Assert.False(OnnxDialect.Dialect.Defines("onnx.NotAnOperator"));
        Assert.Equal(OnnxDialect.Dialect.OpNames.Count(), OnnxDialect.Dialect.Ops.Count());
        var conv = OnnxDialect.Dialect.Find("onnx.Conv")!;
        Assert.NotNull(conv.Interface<IWeightLayout>());
        Assert.True(conv.Has(OpTraits.Pure));
        Assert.NotNull(OnnxDialect.Dialect.Find("onnx.Identity")!.Interface<ICanonicalizationPatterns>());
    }
}
