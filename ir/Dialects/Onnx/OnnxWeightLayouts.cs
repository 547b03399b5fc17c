using Mopt.Ir;

namespace Mopt.Dialects.Onnx;

/// <summary>
/// Where the output channels of ONNX layers' weights are: fold-bn, the quantizers and channel pruning ask this, never
/// the op name.
/// <list type="bullet">
/// <item>Conv: W is [M, C/group, k...]: output axis 0, input axis 1; bias operand 2. ConvInteger (x, w, x_zero_point,
/// w_zero_point) has the same W and no bias; DeformConv (X, W, offset, B, mask) has its bias at operand 3.</item>
/// <item>QLinearConv (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B): W at operand 3 laid out as Conv's,
/// bias operand 8.</item>
/// <item>ConvTranspose: W is [C, M/group, k...]: output axis 1 (the output channel within its group: channel
/// (c / (C/group)) * (M/group) + j for W[c, j]), input axis 0; bias operand 2.</item>
/// <item>Gemm: B is [K, N], or [N, K] with transB = 1: output axis 1 or 0; C (operand 2) is the bias.</item>
/// <item>MatMul / MatMulInteger: the weight is the constant operand, the right one when both or neither are, of rank
/// r &gt;= 2 (none for rank 1 or unknown): MatMul(x, W) has W [..., K, N], output axis r - 1, input axis r - 2;
/// MatMul(W, x) has W [..., N, K], output axis r - 2 (the output's rows), input axis r - 1. No bias.</item>
/// </list>
/// </summary>
public static class OnnxWeightLayouts
{
    public static IWeightLayout Conv { get; } = new Fixed(new WeightAxes(1, 0, 1, 2));
    public static IWeightLayout ConvInteger { get; } = new Fixed(new WeightAxes(1, 0, 1));
    public static IWeightLayout DeformConv { get; } = new Fixed(new WeightAxes(1, 0, 1, 3));
    public static IWeightLayout QLinearConv { get; } = new Fixed(new WeightAxes(3, 0, 1, 8));
    public static IWeightLayout ConvTranspose { get; } = new Fixed(new WeightAxes(1, 1, 0, 2));
    public static IWeightLayout Gemm { get; } = new GemmLayout();
    public static IWeightLayout MatMul { get; } = new MatMulLayout();

    /// <summary>Fixed operand and axes; a bias operand the instance does not have is reported as none.</summary>
    private sealed class Fixed(WeightAxes axes) : IWeightLayout
    {
        public WeightAxes? WeightAxesOf(Operation op) =>
            op.OperandCount <= axes.WeightOperand ? null
            : axes.BiasOperand >= op.OperandCount ? axes with { BiasOperand = -1 }
            : axes;
    }

    private sealed class GemmLayout : IWeightLayout
    {
        public WeightAxes? WeightAxesOf(Operation op) =>
            op.OperandCount < 2 ? null
            : new GemmOp(op).TransB != 0 ? new WeightAxes(1, 0, 1, op.OperandCount > 2 ? 2 : -1)
            : new WeightAxes(1, 1, 0, op.OperandCount > 2 ? 2 : -1);
    }

    private sealed class MatMulLayout : IWeightLayout
    {
        public WeightAxes? WeightAxesOf(Operation op) =>
            op.OperandCount < 2 ? null
            : !Constants.IsConstant(op.GetOperand(1)) && Constants.IsConstant(op.GetOperand(0))
                ? (RankOf(op.GetOperand(0)) is >= 2 and var r0 ? new WeightAxes(0, r0 - 2, r0 - 1) : null)
                : (RankOf(op.GetOperand(1)) is >= 2 and var r1 ? new WeightAxes(1, r1 - 1, r1 - 2) : null);

        private static int RankOf(Value v) => v.Type is TensorType { Shape: { } shape } ? shape.Count : -1;
    }
}
