using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// The pattern that lowers every op of one source type (<c>tf.Conv2D</c>, <c>caffe.Convolution</c>) with its <see cref="Lowering"/>. It waits until each input
/// has a tensor type (its producer lowered and typed); a lowering that gives up leaves the IR as it was and records
/// why, for the error that names every node blocking the conversion. One type-inference context serves the whole
/// lowering (it runs in program order), so shape values computed for one op (a Shape, a Pack of dims) reach the next.
/// </summary>
internal sealed class LowerOp(string opName, string statistic, Lowering lowering, Dictionary<Operation, string> blocked, TypeInferenceContext types) : RewritePattern
{
    public override string Name => statistic;
    public override string? Root => opName;

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        for (int i = 0; i < op.OperandCount; i++)
            if (op.GetOperand(i) is var pending && (pending.Type is not TensorType || IsSource(pending)))
                return rewriter.NotifyMatchFailure(op, $"waits for its input {Describe(pending)} to be lowered");
        var l = new OpLowering(op, rewriter, types);
        IReadOnlyList<Value> results;
        try
        {
            results = lowering(l);
        }
        catch (LoweringBlocked e)
        {
            l.EraseCreated();
            blocked[op] = e.Message;
            return rewriter.NotifyMatchFailure(op, e.Message);
        }
        blocked.Remove(op);
        rewriter.ReplaceOp(op, results);
        return true;
    }

    // An input whose producer is still a source op (a caffe.* result is typed tensor<*xf32> before it is lowered).
    private bool IsSource(Value v) => v is OpResult r && r.Owner.Name.StartsWith(opName.AsSpan(0, opName.IndexOf('.') + 1), StringComparison.Ordinal);

    public static string Describe(Value v) => v is OpResult r ? $"'{r.Owner.Location.FirstName ?? r.Owner.Name}' ({r.Owner.OpType})" : "(an argument)";
}
