using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--canonicalize</c>: small local simplifications that never change what the model computes.
/// <code>
/// Before: %1 = "onnx.Identity"(%0) ; "onnx.Relu"(%1)
/// After:  "onnx.Relu"(%0)
/// </code>
/// Applies when the Identity's input and output types are the same (else a use would change type).
/// </summary>
public sealed class Canonicalize : Pass
{
    public override string Name => "canonicalize";
    public override string Summary => "Remove no-op operations (onnx.Identity) and apply small local simplifications";

    public override void Run(MirModule module, PassContext context) =>
        GreedyRewriteDriver.Apply(module, [new RemoveIdentity()], context);

    private sealed class RemoveIdentity : RewritePattern
    {
        public override string Name => "Identity removed";
        public override string? Root => "onnx.Identity";

        public override bool MatchAndRewrite(Operation op, PassContext context)
        {
            if (op.OperandCount != 1 || op.Results.Count != 1) return false;
            var input = op.GetOperand(0);
            if (input.Type != op.Result.Type)
            {
                context.Skip(op, $"input type {input.Type} differs from output type {op.Result.Type}");
                return false;
            }
            op.Result.ReplaceAllUsesWith(input);
            op.Erase();
            return true;
        }
    }
}
