using Mopt.Dialects.Onnx;
using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// <c>--convert-onnx-to-paddle</c> (and, implicitly, writing a module that is not in <c>paddle.*</c> as a Paddle model):
/// each <c>onnx.*</c> op becomes the <c>paddle.*</c> op(s) Paddle's own programs use for it, with Paddle's slots and
/// attribute types (docs/formats/paddle.md lists the table); constants stay <c>onnx.Constant</c>s, which the Paddle
/// writer makes parameters; those only read as an attribute (a Reshape's shape) are left unread, for the pass
/// manager's dead-weight sweep. An op with no Paddle form, or
/// with options Paddle computes differently, is one error naming every such node; nothing is written.
/// </summary>
public sealed class ConvertOnnxToPaddle : Pass
{
    public override string Name => "convert-onnx-to-paddle";
    public override string Summary => "Lower ONNX ops (onnx.*) to Paddle operators (paddle.*), to write a Paddle model";

    public override void Run(MirModule module, PassContext context)
    {
        var ops = new List<Operation>();
        module.Op.AddNested(ops, op => op.Name.StartsWith("onnx.", StringComparison.Ordinal) && op.Name is not (Constants.ConstantOp or OnnxDialect.NoValueOp));
        if (ops.Count == 0)
        {
            context.MarkAllPreserved();
            return;
        }
        var failures = new List<string>();
        foreach (var op in ops)
        {
            try
            {
                var l = new OnnxToPaddleOp(op, module);
                var results = OnnxToPaddleTable.Lower(l);
                for (int i = 0; i < op.Results.Count; i++) op.Results[i].ReplaceAllUsesWith(results[i]);
                op.Erase();
                context.Count("onnx ops lowered to paddle");
            }
            catch (LoweringBlocked e)
            {
                failures.Add($"node '{op.Location.FirstName ?? "?"}' ({op.OpType}): {e.Message}");
            }
        }
        if (failures.Count > 0)
            throw new MirException($"cannot write Paddle ({failures.Count} node{(failures.Count == 1 ? "" : "s")}):\n  " + string.Join("\n  ", failures));
        // an absent optional input (Resize's roi) is read by nothing once its reader is lowered
        var absent = new List<Operation>();
        module.Op.AddNested(absent, op => op.Name == OnnxDialect.NoValueOp);
        foreach (var op in absent.Where(op => !op.Results[0].HasUses)) op.Erase();
        if (ScalarConstantsToFill.Run(module) is var filled and > 0) context.Count("constant scalars made fill_constant", filled);
    }
}
