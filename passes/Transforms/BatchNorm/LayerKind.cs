namespace Mopt.Passes.BatchNorm;

/// <summary>
/// The layers a per-channel affine map after them can be folded into: how each takes a bias. Where the output
/// channels of the weight lie is the op's <see cref="IWeightLayout"/>.
/// </summary>
internal enum LayerKind
{
    /// <summary><c>onnx.Conv</c>: a 1-D bias of M (operand 2).</summary>
    Conv,
    /// <summary><c>onnx.ConvTranspose</c>: a 1-D bias of M (operand 2); W holds the output channels per group.</summary>
    ConvTranspose,
    /// <summary><c>onnx.Gemm</c>: C (operand 2) broadcast to the output, scaled by beta.</summary>
    Gemm,
    /// <summary><c>onnx.MatMul</c> with a constant 2-D weight on either side: no bias (a shift becomes an Add).</summary>
    MatMul,
}
