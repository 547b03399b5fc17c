namespace Mopt.Ir;

/// <summary>
/// A layer with a weight (Conv, ConvTranspose, Gemm, MatMul): which operand is the weight and which of its axes holds
/// the output channels, as fold-bn, the quantizers and channel pruning need. A layer answers for the instance at
/// hand, since the axis can depend on attributes (Gemm's <c>transB</c>) and on which operand is constant (MatMul).
/// </summary>
public interface IWeightLayout
{
    /// <summary>The weight's operand index and output-channel axis for this instance, or null when it has no such weight.</summary>
    WeightAxes? WeightAxesOf(Operation op);
}

/// <summary>
/// Where the weight is and how its axes map to channels: <paramref name="OutputAxis"/> indexes the weight's output
/// channels; <paramref name="InputAxis"/> its input channels (per group), or -1 when it has none;
/// <paramref name="BiasOperand"/> the bias operand, or -1.
/// </summary>
public sealed record WeightAxes(int WeightOperand, int OutputAxis, int InputAxis, int BiasOperand = -1);
