using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--optimize-transposes</c>: moves Transposes towards the graph's outputs through the ops that do not care about
/// layout, where they meet and cancel. Written for the NHWC ↔ NCHW pairs a TensorFlow lowering puts around every
/// Conv, pool and batch norm, and useful on any ONNX model.
/// <code>
/// Before: %a = Transpose(%c1) {perm = [0, 2, 3, 1]} ; %b = Add(%a, %bias[8]) ; %r = Relu(%b) ; %t = Transpose(%r) {perm = [0, 3, 1, 2]}
/// After:  %b = Add(%c1, %bias'[1, 8, 1, 1]) ; %r = Relu(%b)                       (the pair met and cancelled)
/// </code>
/// Rewrites, each on an op whose input is <c>Transpose(a) {perm = p}</c> (n = the length of p):
/// <list type="bullet">
/// <item>Transpose of a Transpose: one Transpose of the composed permutation, or none when it is the identity; a
/// Transpose with the identity permutation goes; a Transpose of a constant becomes a constant (its bytes moved); two
/// Transposes of the same value by the same permutation become one (the later one unless it names its result);</item>
/// <item>element-wise unary ops (Relu, Sigmoid, Clip with scalar bounds, Cast, ...): U(T(a)) → T(U(a));</item>
/// <item>element-wise binary ops (Add, Sub, Mul, Div, Max, Min, Pow, PRelu, comparisons) whose every other operand is a
/// Transpose with the same p or a constant of rank ≤ n: the constant is padded to rank n with leading 1s and
/// transposed by the inverse of p (a one-element constant is left alone);</item>
/// <item>Concat whose operands are all such Transposes (or constants): axis k becomes p[k];</item>
/// <item>Reduce*, ArgMax/ArgMin, Squeeze with known axes: the axes become p[axes]; without keepdims the Transpose after
/// keeps the remaining axes' order (none when that is the identity: an NHWC → NCHW pool then Squeeze);</item>
/// <item>Pad with constant pads (no axes input): the pads are permuted; Softmax/LogSoftmax (opset 13+): axis k → p[k];</item>
/// <item>Reshape to a constant shape without 0: the Transpose goes when it moves only 1-sized axes (the others keep
/// their order, so the elements do too: NHWC ↔ NCHW of a 1x1 feature map before a flatten);</item>
/// <item>MatMul(Reshape(T(a), [batch, K]), W) with p[0] = 0, a's other axes static and W a constant [K, M]: the
/// Transpose goes and W's rows are reordered to match (the flatten of an NHWC map before a fully connected layer).</item>
/// </list>
/// The moved Transpose takes the op's result names; the old one goes when nothing else reads it. Ops that depend on
/// layout (Conv, pools, MatMul, a Reshape other than the two above, ...) stop a Transpose.
/// </summary>
public sealed class OptimizeTransposes : Pass
{
    public override string Name => "optimize-transposes";
    public override string Summary => "Move Transposes through layout-agnostic ops until they cancel (NHWC/NCHW pairs), fold them into constants";

    public override void Run(MirModule module, PassContext context)
    {
        if (GreedyPatternRewriteDriver.Apply(module, TransposePushing.Patterns(), context, Name) == 0) context.MarkAllPreserved();
    }
}
