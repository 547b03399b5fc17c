using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>
/// Where the output channels of ONNX layers' weights are: fold-bn, the quantizers and channel pruning ask this, never
/// the op name.
/// <list type="bullet">
/// <item>Conv: W is [M, C/group, k...]: output axis 0, input axis 1; bias operand 2.</item>
/// <item>ConvTranspose: W is [C, M/group, k...]: output axis 1, input axis 0; bias operand 2.</item>
/// <item>Gemm: B is [K, N], or [N, K] with transB = 1: output axis 1 or 0; C (operand 2) is the bias.</item>
/// <item>MatMul(x, W) with W of rank 2: W is [K, N], output axis 1, no bias.</item>
/// </list>
/// </summary>
public static class OnnxWeightLayouts
{
    public static IWeightLayout Conv { get; } = new Fixed(new WeightAxes(1, 0, 1, 2));
    public static IWeightLayout ConvTranspose { get; } = new Fixed(new WeightAxes(1, 1, 0, 2));
    public static IWeightLayout Gemm { get; } = new GemmLayout();
    public static IWeightLayout MatMul { get; } = new Fixed(new WeightAxes(1, 1, 0));

    private sealed class Fixed(WeightAxes axes) : IWeightLayout
    {
        public WeightAxes? WeightAxesOf(Operation op) => op.OperandCount > axes.WeightOperand ? axes : null;
    }

    private sealed class GemmLayout : IWeightLayout
    {
        public WeightAxes? WeightAxesOf(Operation op) =>
            op.OperandCount < 2 ? null
            : op.ReadInt("transB", 0) != 0 ? new WeightAxes(1, 0, 1, 2) : new WeightAxes(1, 1, 0, 2);
    }
}
