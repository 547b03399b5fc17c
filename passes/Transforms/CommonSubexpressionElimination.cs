using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// <c>--cse</c>: common subexpression elimination. An operation identical to an earlier one is dropped and its users
/// read the earlier one's results.
/// <code>
/// Before: %a = "onnx.Relu"(%x) loc("relu_a") ; %b = "onnx.Relu"(%x) loc("relu_b") ; "onnx.Add"(%a, %b)
/// After:  %a = "onnx.Relu"(%x) loc(fused["relu_a", "relu_b"]) ; "onnx.Add"(%a, %a)
/// </code>
/// Identical: the same operation name, the same operand values in the same order, equal attributes and equal result
/// types. Bookkeeping attributes do not count: <c>mo.*</c> (such as the ONNX tensor names in <c>mo.outputs</c>),
/// <c>onnx.doc_string</c> and <c>onnx.metadata_props</c>; the kept operation keeps its own and takes the other's
/// location too (fused). Only operations that compute a value and nothing else: at least one result, no regions,
/// of the dialects <c>--dce</c> treats as pure (onnx, tf, caffe, paddle, mo) minus the stateful ones, and never a
/// random one (Random*, Multinomial, Bernoulli, Dropout, TruncatedNormal, ...). Constants are left to
/// <c>--dedupe-constants</c> (run it first: operations reading two equal constants become identical). The earlier
/// operation must come before the other's uses: the same block or an enclosing one. A chain of duplicates
/// collapses in one sweep, since users are looked at after their operands were merged.
/// </summary>
public sealed class CommonSubexpressionElimination : Pass
{
    /// <summary>Attributes that name or document an operation without changing what it computes.</summary>
    private static bool IsBookkeeping(string attr) =>
        attr.StartsWith("mo.", StringComparison.Ordinal) || attr is "onnx.doc_string" or "onnx.metadata_props";

    public override string Name => "cse";
    public override string Summary => "Common subexpression elimination: compute identical operations on identical inputs once";

    public override void Run(MirModule module, PassContext context)
    {
        long merged = 0;
        foreach (var func in module.Op.Walk().Where(o => o.Name == FuncOp.OpName).ToList())
            foreach (var block in func.Regions.SelectMany(r => r.Blocks))
                Walk(block, new ScopedTable<Key>(null), ref merged);
        if (merged > 0) context.Count("operations merged", merged);
    }

    private static void Walk(Block block, ScopedTable<Key> scope, ref long merged)
    {
        foreach (var op in block.Operations.ToList())
        {
            if (IsCandidate(op))
            {
                var key = new Key(op);
                if (scope.Find(key) is { } first)
                {
                    for (int i = 0; i < op.Results.Count; i++) op.Results[i].ReplaceAllUsesWith(first.Results[i]);
                    first.Location = Location.Fuse(first.Location, op.Location);
                    op.Erase();
                    merged++;
                    continue;
                }
                scope.Add(key, op);
            }
            foreach (var inner in op.Regions.SelectMany(r => r.Blocks))
                Walk(inner, scope.Nested(), ref merged);
        }
    }

    public static bool IsCandidate(Operation op) =>
        op.Results.Count > 0 && op.Regions.Count == 0 && op.Name != Constants.ConstantOp &&
        DeadCodeElimination.IsPure(op) && !IsRandom(op.OpType);

    private static bool IsRandom(string opType) =>
        opType.Contains("random", StringComparison.OrdinalIgnoreCase) || opType.Contains("dropout", StringComparison.OrdinalIgnoreCase) ||
        opType is "Multinomial" or "Bernoulli" or "TruncatedNormal" or "ParameterizedTruncatedNormal" or "StatelessMultinomial";

    /// <summary>What makes two operations compute the same: name, operands, attributes, result types.</summary>
    private sealed class Key : IEquatable<Key>
    {
        private readonly Operation _op;
        private readonly NamedAttr[] _attrs;
        private readonly int _hash;

        public Key(Operation op)
        {
            _op = op;
            _attrs = op.Attributes.Where(a => !IsBookkeeping(a.Name)).ToArray();
            var h = new HashCode();
            h.Add(op.Name);
            foreach (var v in op.Operands) h.Add(v);
            foreach (var a in _attrs) { h.Add(a.Name); h.Add(a.Value); }
            foreach (var r in op.Results) h.Add(r.Type);
            _hash = h.ToHashCode();
        }

        public bool Equals(Key? other)
        {
            if (other is null || other._hash != _hash) return false;
            Operation a = _op, b = other._op;
            return a.Name == b.Name && a.Operands.SequenceEqual(b.Operands) && _attrs.SequenceEqual(other._attrs) &&
                   a.Results.Select(r => r.Type).SequenceEqual(b.Results.Select(r => r.Type));
        }

        public override bool Equals(object? obj) => obj is Key k && Equals(k);
        public override int GetHashCode() => _hash;
    }

}
