using Mopt.Dialects;
using Mopt.Ir;

namespace Mopt.Tests.Passes;

/// <summary>
/// Where each ONNX layer's weight and its output channels are (<see cref="IWeightLayout"/>), as fold-bn and the
/// quantizers ask it, for each instance: the operand order of the quantized and deformable convolutions, Gemm's
/// transB, and which side of a MatMul is the constant.
/// </summary>
public sealed class WeightLayoutTests
{
    private static WeightAxes? AxesOf(string body, string opName)
    {
        var module = Mir.Parse($$"""
            module {
              func.func @main(%x: tensor<2x4xf32>, %i: tensor<1x3x8x8xi8>, %f: tensor<1x3x8x8xf32>) {
            {{body}}
                return
              }
            }
            """);
        var op = module.AllOperations().Single(o => o.Name == opName);
        return StandardDialects.Registry.Interface<IWeightLayout>(op)?.WeightAxesOf(op);
    }

    private const string Consts = """
            %w = "onnx.Constant"() {value = dense<1.0> : tensor<4x5xf32>} : () -> tensor<4x5xf32>
            %wl = "onnx.Constant"() {value = dense<1.0> : tensor<3x2xf32>} : () -> tensor<3x2xf32>
            %k = "onnx.Constant"() {value = dense<1> : tensor<6x3x3x3xi8>} : () -> tensor<6x3x3x3xi8>
            %kf = "onnx.Constant"() {value = dense<1.0> : tensor<6x3x3x3xf32>} : () -> tensor<6x3x3x3xf32>
            %s = "onnx.Constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
            %z = "onnx.Constant"() {value = dense<0> : tensor<i8>} : () -> tensor<i8>
            %b = "onnx.Constant"() {value = dense<0> : tensor<6xi32>} : () -> tensor<6xi32>
            %bf = "onnx.Constant"() {value = dense<0.0> : tensor<6xf32>} : () -> tensor<6xf32>
            %off = "onnx.Constant"() {value = dense<0.0> : tensor<1x18x6x6xf32>} : () -> tensor<1x18x6x6xf32>
        """;

    [Fact]
    public void MatMulWeightIsTheConstantSide()
    {
        Assert.Equal(new WeightAxes(1, 1, 0), AxesOf(Consts + """
                %y = "onnx.MatMul"(%x, %w) : (tensor<2x4xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
            """, "onnx.MatMul"));
        // MatMul(W, x): W is [N, K], its rows are the output channels.
        Assert.Equal(new WeightAxes(0, 0, 1), AxesOf(Consts + """
                %y = "onnx.MatMul"(%wl, %x) : (tensor<3x2xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
            """, "onnx.MatMul"));
    }

    [Fact]
    public void GemmFollowsTransBAndHasCAsBias()
    {
        Assert.Equal(new WeightAxes(1, 0, 1, 2), AxesOf(Consts + """
                %y = "onnx.Gemm"(%x, %w, %bf) {transB = 1 : i64} : (tensor<2x4xf32>, tensor<4x5xf32>, tensor<6xf32>) -> tensor<2x4xf32>
            """, "onnx.Gemm"));
        Assert.Equal(new WeightAxes(1, 1, 0, -1), AxesOf(Consts + """
                %y = "onnx.Gemm"(%x, %w) : (tensor<2x4xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
            """, "onnx.Gemm"));
    }

    [Fact]
    public void QuantizedAndDeformableConvolutionsHaveTheirOwnOperandOrder()
    {
        // QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B)
        Assert.Equal(new WeightAxes(3, 0, 1, 8), AxesOf(Consts + """
                %y = "onnx.QLinearConv"(%i, %s, %z, %k, %s, %z, %s, %z, %b) : (tensor<1x3x8x8xi8>, tensor<f32>, tensor<i8>, tensor<6x3x3x3xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<i8>, tensor<6xi32>) -> tensor<1x6x6x6xi8>
            """, "onnx.QLinearConv"));
        // ConvInteger(x, w, x_zp, w_zp): operand 2 is a zero point, not a bias.
        Assert.Equal(new WeightAxes(1, 0, 1), AxesOf(Consts + """
                %y = "onnx.ConvInteger"(%i, %k, %z, %z) : (tensor<1x3x8x8xi8>, tensor<6x3x3x3xi8>, tensor<i8>, tensor<i8>) -> tensor<1x6x6x6xi32>
            """, "onnx.ConvInteger"));
        // DeformConv(X, W, offset, B)
        Assert.Equal(new WeightAxes(1, 0, 1, 3), AxesOf(Consts + """
                %y = "onnx.DeformConv"(%f, %kf, %off, %bf) : (tensor<1x3x8x8xf32>, tensor<6x3x3x3xf32>, tensor<1x18x6x6xf32>, tensor<6xf32>) -> tensor<1x6x6x6xf32>
            """, "onnx.DeformConv"));
        // Conv without a bias: none reported.
        Assert.Equal(new WeightAxes(1, 0, 1, -1), AxesOf(Consts + """
                %y = "onnx.Conv"(%f, %kf) : (tensor<1x3x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x6x6xf32>
            """, "onnx.Conv"));
    }
}
