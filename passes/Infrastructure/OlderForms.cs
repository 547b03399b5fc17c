using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// What the rewrite drivers ask before rewriting or lowering an operation: patterns and lowerings are written for
/// operations' current meaning, so an operation, or a producer of one of its operands, that means something else at the
/// module's version (an ONNX operator of an old opset, <see cref="IVersionedSemantics"/>) is left alone, with the reason.
/// Each dialect's semantics is asked once per run whether any of its operations can differ at all; when none can (an
/// ONNX module at opset 13 or later), its operations are not asked one by one.
/// </summary>
internal sealed class OlderForms(MirModule module, DialectRegistry dialects)
{
    // The semantics met in this run and whether all their operations are current here: a dialect or two.
    private readonly List<(IVersionedSemantics Semantics, bool AllCurrent)> _met = new();

    /// <summary>Why <paramref name="op"/> is not rewritten here (it, or an input's producer, is of an older form); null when it may be.</summary>
    public RewriteFailure? Of(Operation op)
    {
        if (Differs(op) is { } own) return new RewriteFailure(op, own);
        for (int i = 0; i < op.OperandCount; i++)
            if (op.GetOperand(i) is OpResult { Owner: var producer } && Differs(producer) is { } reason)
                return new RewriteFailure(op, $"its input from {producer.Location.FirstName ?? producer.Name} ({producer.OpType}) is of an older form: {reason}");
        return null;
    }

    /// <summary>How <paramref name="op"/> itself means something else at the module's version; null when it does not.</summary>
    public string? Differs(Operation op)
    {
        if (dialects.Interface<IVersionedSemantics>(op) is not { } semantics) return null;
        return AllCurrent(semantics) ? null : semantics.Differs(op, module);
    }

    private bool AllCurrent(IVersionedSemantics semantics)
    {
        foreach (var (met, allCurrent) in _met)
            if (ReferenceEquals(met, semantics)) return allCurrent;
        bool all = semantics.AllCurrent(module);
        _met.Add((semantics, all));
        return all;
    }
}
