using Mopt.Dialects;
using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Tests.Dialects;

/// <summary>The tf dialect's definitions: what generic passes ask of TensorFlow ops, and the dtype table both ways.</summary>
public sealed class TfDialectTests
{
    [Fact]
    public void ConstIsAConstantHoldingItsValue()
    {
        var def = StandardDialects.Registry.Find("tf.Const")!;
        Assert.True(def.Has(OpTraits.ConstantLike | OpTraits.Pure));
        Assert.NotNull(def.Interface<IConstantLike>());
        Assert.False(def.OperandCounts.Contains(1));
    }

    [Theory]
    [InlineData("tf.Relu", OpTraits.Pure)]
    [InlineData("tf.FusedBatchNorm", OpTraits.Pure)]
    [InlineData("tf.Assert", OpTraits.HasEffects)]
    [InlineData("tf.VariableV2", OpTraits.HasEffects)]
    [InlineData("tf.RandomUniform", OpTraits.NonDeterministic)]
    public void OpsHaveTheirTraits(string op, OpTraits traits)
    {
        var def = StandardDialects.Registry.Find(op)!;
        Assert.Equal(traits, def.Traits);
        Assert.True(def.OperandCounts.Contains(5), "TensorFlow ops take any number of inputs until their arities are declared");
    }

    [Fact]
    public void AnUndeclaredOpHasNoDefinition() => Assert.Null(StandardDialects.Registry.Find("tf.DecodeWav"));

    [Fact]
    public void EveryDtypeComesBackFromItsType()
    {
        foreach (int code in Enumerable.Range(0, 33).Concat(Enumerable.Range(101, 32)).Append(77))
            Assert.Equal(code, TfDataTypes.CodeOf(TfDataTypes.TypeOf(code)));
        Assert.Equal("f32", TfDataTypes.TypeOf(1).Text);
        Assert.Equal("!tf.string", TfDataTypes.TypeOf(7).Text);
        Assert.Equal("!tf.float_ref", TfDataTypes.TypeOf(101).Text);
        Assert.Equal("!tf.dtype<77>", TfDataTypes.TypeOf(77).Text);
    }
}
