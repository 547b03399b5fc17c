using Mopt.Dialects;
using Mopt.Ir;

namespace Mopt.Tests.Dialects;

/// <summary>The caffe dialect's definitions: layers that compute are pure, data/loss/accuracy layers act, unknown types have no definition.</summary>
public sealed class CaffeDialectTests
{
    [Theory]
    [InlineData("caffe.Convolution", 2, 3)]
    [InlineData("caffe.BatchNorm", 4, 4)]
    [InlineData("caffe.ReLU", 1, 1)]
    [InlineData("caffe.PReLU", 2, 2)]
    [InlineData("caffe.Eltwise", 1, null)]
    public void ComputingLayersArePureWithTheirOperandCounts(string name, int min, int? max)
    {
        var def = StandardDialects.Registry.Find(name)!;
        Assert.True(def.Traits.IsPure());
        Assert.Equal(new CountRange(min, max), def.OperandCounts);
    }

    [Theory]
    [InlineData("caffe.HDF5Data")]
    [InlineData("caffe.SoftmaxWithLoss")]
    [InlineData("caffe.Accuracy")]
    [InlineData("caffe.Silence")]
    public void DataLossAndAccuracyLayersAreNeverRemoved(string name) =>
        Assert.False(StandardDialects.Registry.Find(name)!.Traits.IsRemovableWhenUnused());

    [Fact]
    public void AnUnknownLayerTypeHasNoDefinition() => Assert.Null(StandardDialects.Registry.Find("caffe.Mystery"));
}
