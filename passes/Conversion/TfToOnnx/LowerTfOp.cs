using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// The pattern that lowers every op of one TensorFlow type with its <see cref="Lowering"/>. It waits until each input
/// has a tensor type (its producer lowered and typed); a lowering that gives up leaves the IR as it was and records
/// why, for the error that names every node blocking the conversion. One type-inference context serves the whole
/// lowering (it runs in program order), so shape values computed for one op (a Shape, a Pack of dims) reach the next.
/// </summary>
internal sealed class LowerTfOp(string tfName, Lowering lowering, Dictionary<Operation, string> blocked, TypeInferenceContext types) : RewritePattern
{
    public override string Name => "tf ops lowered";
    public override string? Root => "tf." + tfName;

    public override bool MatchAndRewrite(Operation op, PatternRewriter rewriter)
    {
        if (op.Operands.FirstOrDefault(v => v.Type is not TensorType) is { } pending)
            return rewriter.NotifyMatchFailure(op, $"waits for its input {Describe(pending)} to be lowered");
        var l = new TfLowering(op, rewriter, types);
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

    public static string Describe(Value v) => v is OpResult r ? $"'{r.Owner.Location.FirstName ?? r.Owner.Name}' ({r.Owner.OpType})" : "(an argument)";
}
