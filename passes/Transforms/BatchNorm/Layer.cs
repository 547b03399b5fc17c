using Mopt.Ir;

namespace Mopt.Passes.BatchNorm;

/// <summary>A layer whose output channels can absorb a per-channel scale (in its weight) and shift (in its bias).</summary>
internal sealed class Layer
{
    public required Operation Op { get; init; }
    public required LayerKind Kind { get; init; }
    /// <summary>The weight's operand and the axes of its output and input channels, from the op's <see cref="IWeightLayout"/>.</summary>
    public required WeightAxes Axes { get; init; }
    /// <summary>The constant weight, still bytes: read as numbers only when a fold goes ahead.</summary>
    public required ConstantTensor Weight { get; init; }
    public TensorType WeightType => Weight.Type;
    /// <summary>Output channels (M).</summary>
    public required int Channels { get; init; }
    /// <summary>Rank of the output, -1 when unknown.</summary>
    public required int OutputRank { get; init; }
    public long Group { get; init; } = 1;
    /// <summary>Conv/ConvTranspose bias or Gemm C (only when beta != 0); null when there is none.</summary>
    public double[]? Bias { get; init; }
    public TensorType? BiasType { get; init; }
    public double Beta { get; init; } = 1;

    public int WeightIndex => Axes.WeightOperand;

    /// <summary>The output axis that holds the channels, -1 when the rank is unknown.</summary>
    public int FeatureAxis => Kind switch
    {
        // MatMul(x, W): the output's last axis; MatMul(W, x): its second-to-last (a 1-D x gives a 1-D output).
        LayerKind.MatMul when WeightIndex == 1 => OutputRank >= 1 ? OutputRank - 1 : -1,
        LayerKind.MatMul => OutputRank >= 2 ? OutputRank - 2 : OutputRank == 1 ? 0 : -1,
        _ => 1,
    };

    public string Name => FloatData.NameOf(Op);

    /// <summary>The weight's values (a fresh array each call).</summary>
    public double[] ReadWeight() => FloatData.Read(Weight);
}
