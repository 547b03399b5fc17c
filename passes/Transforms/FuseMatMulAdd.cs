using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--fuse-matmul-add</c>: a MatMul followed by an Add of a bias becomes one Gemm.
/// <code>
/// Before: %m = "onnx.MatMul"(%a, %w) : (tensor&lt;?x64xf32&gt;, tensor&lt;64x10xf32&gt;) -> tensor&lt;?x10xf32&gt;
///         %y = "onnx.Add"(%m, %b)    : (tensor&lt;?x10xf32&gt;, tensor&lt;10xf32&gt;) -> tensor&lt;?x10xf32&gt;
/// After:  %y = "onnx.Gemm"(%a, %w, %b) : (...) -> tensor&lt;?x10xf32&gt; loc(fused["matmul", "add"])
/// </code>
/// Applies when all of these hold (otherwise both stay and the reason is recorded):
/// <list type="bullet">
/// <item>the MatMul's result is read only by the Add (either Add operand), in the same block;</item>
/// <item>A and W are both 2-D (Gemm is 2-D). A of higher rank is skipped, not reshaped: flattening it to 2-D and back
/// takes two Reshapes (and Shape ops for dynamic leading dimensions), which costs what the fusion saves;</item>
/// <item>the bias is a constant whose shape is unidirectionally broadcastable to the (M, N) result: rank 0, [N], [1],
/// [1, N], [M, 1], [M, N] or [1, 1], with every non-1 entry equal to a static M or N (so the Add did not broadcast
/// the product);</item>
/// <item>the element type is f16, f32 or f64 (bf16 from opset 13), and the opset is 7 or later (Gemm-6 needs
/// <c>broadcast</c>).</item>
/// </list>
/// The Gemm takes the Add's place, with alpha = beta = 1 and no transposes; it replaces the Add through the rewriter,
/// which hands it the Add's result names, fuses the Add's location into the MatMul's, and erases the MatMul.
/// </summary>
public sealed class FuseMatMulAdd : Pass
{
    public override string Name => "fuse-matmul-add";
    public override string Summary => "Fuse MatMul + Add of a constant bias into Gemm when the MatMul is 2-D";

    public override void Run(MirModule module, PassContext context)
    {
        if (GreedyPatternRewriteDriver.Apply(module, [new MatMulAddToGemm()], context, Name) == 0) context.MarkAllPreserved();
    }

    private sealed class MatMulAddToGemm : RewritePattern
    {
        public override string Name => "MatMul + Add fused into Gemm";
        public override string? Root => "onnx.Add";

        public override bool MatchAndRewrite(Operation add, PatternRewriter rewriter)
        {
            if (add.OperandCount != 2 || add.Results.Count != 1) return false;
            int mmIndex = OnnxFacts.Producer(add.GetOperand(0), "onnx.MatMul") is not null ? 0
                : OnnxFacts.Producer(add.GetOperand(1), "onnx.MatMul") is not null ? 1 : -1;
            if (mmIndex < 0) return false;
            var matmul = ((OpResult)add.GetOperand(mmIndex)).Owner;
            var bias = add.GetOperand(1 - mmIndex);
            if (matmul.OperandCount != 2 || matmul.Results.Count != 1) return false;
            if (!OnnxFacts.OnlyUser(matmul.Result, add)) return Skip("the MatMul result has other users");
            if (matmul.Parent != add.Parent) return Skip("the MatMul is in another block (the Gemm would move its work there)");
            var a = matmul.GetOperand(0);
            var w = matmul.GetOperand(1);
            if (a.Type is not TensorType { Shape: { } aShape } aType) return Skip("A has an unknown rank");
            if (aShape.Count != 2) return Skip($"A has rank {aShape.Count}; Gemm is 2-D (not reshaped)");
            if (w.Type is not TensorType { Shape: [_, var n] }) return Skip("W is not 2-D");
            var element = aType.Element;
            long opset = OnnxOpset.Of(rewriter.Module);
            if (opset < 7) return Skip($"opset {opset} is before 7 (Gemm needs the broadcast attribute there)");
            bool floatOk = element == ElementType.F32 || element == ElementType.F16 || element == ElementType.F64
                           || (element == ElementType.BF16 && opset >= 13);
            if (!floatOk) return Skip($"element type {element} is not one Gemm takes here");
            if (!Constants.IsConstant(bias)) return Skip("the bias is not a constant");
            if (bias.Type is not TensorType { Shape: { } b } || !(bias.Type as TensorType)!.HasStaticShape) return Skip("the bias has no static shape");
            if (add.Result.Type is not TensorType outType || outType.Element != element) return Skip("the Add result type does not match");
            long m = aShape[0];
            if (!Broadcastable(b, m, n)) return Skip($"the bias shape {OnnxFacts.Dims(b.ToArray())} is not broadcastable to ({Dim(m)}, {Dim(n)}) without growing the result");

            // The Gemm takes the Add's place, result names and location; the MatMul, left unused, goes.
            var gemm = rewriter.Create("onnx.Gemm", [a, w, bias], [add.Result.Type], location: matmul.Location);
            rewriter.ReplaceOp(add, gemm);
            return true;

            bool Skip(string reason) => rewriter.NotifyMatchFailure(add, $"not fused with the MatMul before it: {reason}");
        }

        private static string Dim(long d) => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>True when a bias of <paramref name="b"/> broadcasts to (M, N) and never grows it.</summary>
        private static bool Broadcastable(IReadOnlyList<long> b, long m, long n) => b.Count switch
        {
            0 => true,
            1 => b[0] == 1 || (n >= 0 && b[0] == n),
            2 => (b[0] == 1 || (m >= 0 && b[0] == m)) && (b[1] == 1 || (n >= 0 && b[1] == n)),
            _ => false,
        };
    }
}
