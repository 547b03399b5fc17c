using Mopt.Dialects.Tf;
using Mopt.Ir;

namespace Mopt.Passes.Tf;

/// <summary>
/// The value of a tensor computed from constants only (a <c>tf.Const</c>, an <c>Identity</c> of one, a batch norm's
/// written-out <c>Rsqrt(var + eps) * gamma</c>), evaluated with the tf dialect's folders without changing the graph:
/// what the batch-norm folds read their parameters and weights from, so they work before or without fold_constants.
/// </summary>
internal sealed class TfConstEval(MirModule module, DialectRegistry dialects)
{
    private readonly Dictionary<Value, ConstantTensor?> _known = new();

    /// <summary>The value, or null when something on the way is not constant, not pure or not evaluated by mopt.</summary>
    public ConstantTensor? Evaluate(Value v, int depth = 0)
    {
        if (_known.TryGetValue(v, out var known)) return known;
        ConstantTensor? result = null;
        if (v is OpResult { Owner: var op } r && depth < 64)
        {
            if (op.Name == TfDialect.ConstOp) result = TfGraph.ConstValue(v, module);
            else if (op.Dialect == TfDialect.Name && op.Results.Count == 1 && op.OperandCount > 0 && r.Index == 0
                     && dialects.Find(op) is { } def && def.Traits.IsPure() && def.Interface<IFolder>() is { } folder)
            {
                var request = new FoldRequest(op, module, dialects, 1L << 24);
                for (int i = 0; i < op.OperandCount && request is not null; i++)
                    request = request.IsConstant(i) ? request : Evaluate(op.GetOperand(i), depth + 1) is { } input ? request.WithInput(i, input) : null;
                if (request is not null)
                {
                    try { result = folder.Fold(request) is { Count: 1 } values ? values[0] : null; }
                    catch (Exception e) when (e is FoldException or OverflowException) { result = null; }
                }
            }
        }
        _known[v] = result;
        return result;
    }

    /// <summary>A float vector of <paramref name="length"/> elements (shape [n]), as doubles; null otherwise.</summary>
    public double[]? Vector(Value v, long length) =>
        Evaluate(v) is { Type: { Element.IsFloat: true, Shape: [var n] } } t && n == length ? t.ToFloats().Select(f => (double)f).ToArray() : null;
}
