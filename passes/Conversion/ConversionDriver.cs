using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// Lowers a source dialect's ops in one walk (MLIR's dialect conversion driver, applyPartialConversion): each op, in
/// program order, is lowered by its <see cref="Lowering"/> through a rewriter placed before it, its results' uses move
/// to what the lowering returns (unless the lowering turned the op itself into its ONNX op: <see cref="OpLowering.Become"/>),
/// and it is erased with what that leaves dead (old weights, whose blobs are released at
/// the end: "blobs removed", "blob bytes freed"). In program order every input's producer comes first, so no worklist
/// is needed: an op waits only for a producer that could not be lowered (or, in a block whose order is not the data
/// flow's, one not lowered yet, which is tried again as soon as that producer is). Each lowered op counts the
/// statistic; why an op was not lowered is reported (as a skip) for the ops left, with the last reason given, and
/// <see cref="Blocked"/> keeps the reasons lowerings gave, for the error naming every node left.
/// </summary>
internal sealed class ConversionDriver
{
    private readonly PassContext _context;
    private readonly string _prefix;
    private readonly string _statistic;
    private readonly Func<Operation, Lowering> _loweringOf;
    private readonly TypeInferenceContext _types;
    private readonly PatternRewriter _rewriter;
    private readonly OlderForms _olderForms;
    // Why an op still there was not lowered (its last try), as the greedy driver reported it.
    private readonly Dictionary<Operation, RewriteFailure> _failures = new();
    // Ops whose try failed, to try again once a producer of theirs is lowered (only when something failed).
    private readonly List<Operation> _retry = new();
    // The ops one lowering made (to erase if it gives up), reused from op to op.
    private readonly List<Operation> _created = new();

    /// <param name="prefix">The source dialect with its dot (<c>caffe.</c>): an input made by such an op is not lowered yet.</param>
    /// <param name="statistic">Counted once per lowered op (<c>caffe ops lowered</c>).</param>
    /// <param name="loweringOf">The lowering of a source op (by its type).</param>
    /// <param name="types">One type-inference context for the whole walk: shape values one lowering computed reach the next.</param>
    public ConversionDriver(MirModule module, PassContext context, string prefix, string statistic, Func<Operation, Lowering> loweringOf,
        TypeInferenceContext types)
    {
        _olderForms = new OlderForms(module, context.Dialects);
        _context = context;
        _prefix = prefix;
        _statistic = statistic;
        _loweringOf = loweringOf;
        _types = types;
        _rewriter = new PatternRewriter(module, context.Dialects)
        {
            // Under a pass manager its sweep removes what the lowering left unreferenced (DeadWeights.RemoveReleased).
            NotesReleasedBlobs = !context.SweepFollows,
            // No sink without --debug: lowerings then skip building their lines.
            LogSink = context.Debug is null ? null : context.Log,
            StatisticSink = (what, by) => context.Count(what, by),
        };
    }

    /// <summary>Op → why its lowering gave up (a <see cref="LoweringBlocked"/>'s reason), for the ops left.</summary>
    public Dictionary<Operation, string> Blocked { get; } = new();

    /// <summary>Lowers <paramref name="ops"/> (the source ops, in program order); returns how many were lowered.</summary>
    public long Run(List<Operation> ops)
    {
        long lowered = 0;
        for (int i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            if (op.Parent is null) continue; // erased with a lowered op's dead producers
            lowered += LowerAndRetry(op);
        }

        // A reason is reported only for an op still there (in program order).
        if (_failures.Count > 0)
            for (int i = 0; i < ops.Count; i++)
                if (ops[i].Parent is not null && _failures.TryGetValue(ops[i], out var failure)) _context.Skip(failure.Target, failure.Reason);

        DeadWeights.RemoveReleased(_rewriter, _context);
        return lowered;
    }

    /// <summary>Lowers <paramref name="op"/>, then (newest first) the ops that had failed and read what it replaced.</summary>
    private long LowerAndRetry(Operation op)
    {
        long lowered = 0;
        int bottom = _retry.Count;
        _retry.Add(op);
        while (_retry.Count > bottom)
        {
            var next = _retry[^1];
            _retry.RemoveAt(_retry.Count - 1);
            if (next.Parent is null) continue;
            // The users to try again if this one is lowered: only ops that failed before (none in a walk where nothing fails).
            int users = _retry.Count;
            if (_failures.Count > 0) AddFailedUsers(next);
            if (TryLower(next)) lowered++;
            else _retry.RemoveRange(users, _retry.Count - users);
        }
        return lowered;
    }

    private void AddFailedUsers(Operation op)
    {
        for (int r = 0; r < op.Results.Count; r++)
        {
            var uses = op.Results[r].Uses;
            for (int i = 0; i < uses.Count; i++)
                if (uses[i].Owner is var user && user != op && _failures.ContainsKey(user) && !_retry.Contains(user)) _retry.Add(user);
        }
    }

    private bool TryLower(Operation op)
    {
        if (_olderForms.Of(op) is { } legacy)
        {
            _failures[op] = legacy;
            return false;
        }
        for (int i = 0; i < op.OperandCount; i++)
            if (op.GetOperand(i) is var pending && (pending.Type is not TensorType || IsSource(pending)))
            {
                _failures[op] = new RewriteFailure(op, $"waits for its input {Describe(pending)} to be lowered");
                return false;
            }
        _rewriter.BeginRewrite();
        _rewriter.SetInsertionPointBefore(op);
        _created.Clear();
        var l = new OpLowering(op, _rewriter, _types, _created);
        IReadOnlyList<Value> results;
        try
        {
            results = _loweringOf(op)(l);
        }
        catch (LoweringBlocked e)
        {
            l.EraseCreated();
            Blocked[op] = e.Message;
            _failures[op] = new RewriteFailure(op, e.Message);
            return false;
        }
        Blocked.Remove(op);
        _failures.Remove(op);
        // An op the lowering turned into its ONNX op in place (OpLowering.Become) is its own replacement.
        if (results.Count != 1 || results[0] is not OpResult { Owner: var owner } || owner != op) _rewriter.ReplaceOp(op, results);
        _context.Count(_statistic);
        return true;
    }

    // An input whose producer is still a source op (a caffe.* result is typed tensor<*xf32> before it is lowered).
    private bool IsSource(Value v) => v is OpResult r && r.Owner.Name.StartsWith(_prefix, StringComparison.Ordinal);

    public static string Describe(Value v) => v is OpResult r ? $"'{r.Owner.Location.FirstName ?? r.Owner.Name}' ({r.Owner.OpType})" : "(an argument)";
}
