using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>
/// Where the output channels of ONNX layers' weights are: fold-bn, the quantizers and channel pruning ask this, never
/// the op name.
/// <list type="bullet">
/// <item>Conv, DeformConv: W (operand 1) is [M, C/group, k...]: output axis 0, input axis 1; bias operand 2 (DeformConv: 3).</item>
/// <item>ConvInteger: w (operand 1) as Conv's, no bias (operand 2 is x's zero point).</item>
/// <item>QLinearConv: w (operand 3) as Conv's; bias operand 8.</item>
/// <item>ConvTranspose: W is [C, M/group, k...]: output axis 1, input axis 0; bias operand 2.</item>
/// <item>Gemm: B is [K, N], or [N, K] with transB = 1: output axis 1 or 0; C (operand 2) is the bias.</item>
/// <item>MatMul, MatMulInteger: B (operand 1) of rank r ≥ 2 is [..., K, N]: output axis r - 1, input axis r - 2, no
/// bias; none when B's rank is 1 or unknown.</item>
/// </list>
/// </summary>
public static class OnnxWeightLayouts
{
    public static IWeightLayout Conv { get; } = new Fixed(new WeightAxes(1, 0, 1, 2));
    public static IWeightLayout DeformConv { get; } = new Fixed(new WeightAxes(1, 0, 1, 3));
    public static IWeightLayout ConvInteger { get; } = new Fixed(new WeightAxes(1, 0, 1));
    public static IWeightLayout QLinearConv { get; } = new Fixed(new WeightAxes(3, 0, 1, 8));
    public static IWeightLayout ConvTranspose { get; } = new Fixed(new WeightAxes(1, 1, 0, 2));
    public static IWeightLayout Gemm { get; } = new GemmLayout();
    public static IWeightLayout MatMul { get; } = new MatMulLayout();

    private sealed class Fixed(WeightAxes axes) : IWeightLayout
    {
        public WeightAxes? WeightAxesOf(Operation op) => op.OperandCount > axes.WeightOperand ? axes : null;
    }

    private sealed class GemmLayout : IWeightLayout
    {
        public WeightAxes? WeightAxesOf(Operation op) =>
            op.OperandCount < 2 ? null
            : new GemmOp(op).TransB != 0 ? new WeightAxes(1, 0, 1, 2) : new WeightAxes(1, 1, 0, 2);
    }

    private sealed class MatMulLayout : IWeightLayout
    {
        public WeightAxes? WeightAxesOf(Operation op) =>
            op.OperandCount >= 2 && op.GetOperand(1).Type is TensorType { Shape: { Count: >= 2 and var rank } }
                ? new WeightAxes(1, rank - 1, rank - 2)
                : null;
    }
}
