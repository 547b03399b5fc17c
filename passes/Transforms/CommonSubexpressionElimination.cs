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
/// types. Bookkeeping attributes do not count: those the registry's result names call bookkeeping
/// (<see cref="IResultNames.IsBookkeeping"/>: <c>mo.*</c>, such as the ONNX tensor names in <c>mo.outputs</c>,
/// <c>onnx.doc_string</c> and <c>onnx.metadata_props</c>); the kept operation keeps its own and takes the other's
/// location too (fused). Candidates are asked of their definitions, never their names: at least one result, no
/// regions, Pure (<see cref="DialectRegistry.IsPure"/>: not NonDeterministic, as RandomNormalLike or Dropout, and
/// no effects), and not ConstantLike: constants are left to <c>--dedupe-constants</c> (run it first: operations
/// reading two equal constants become identical). An operation without a definition (an unregistered dialect, an
/// ONNX custom-domain operator) is never merged. The earlier operation must come before the other's uses: the same
/// block or an enclosing one. A chain of duplicates collapses in one sweep, since users are looked at after their
/// operands were merged.
/// </summary>
public sealed class CommonSubexpressionElimination : Pass
{
    public override string Name => "cse";
    public override string Summary => "Common subexpression elimination: compute identical operations on identical inputs once";

    public override void Run(MirModule module, PassContext context)
    {
        long merged = 0;
        foreach (var func in module.FunctionOps())
            foreach (var block in func.Regions.SelectMany(r => r.Blocks))
                Walk(block, new ScopedTable<Key>(null), context.Dialects, ref merged);
        if (merged > 0) context.Count("operations merged", merged);
        else context.MarkAllPreserved();
    }

    private static void Walk(Block block, ScopedTable<Key> scope, DialectRegistry dialects, ref long merged)
    {
        foreach (var op in block.Operations.ToList())
        {
            if (IsCandidate(op, dialects))
            {
                var key = new Key(op, dialects.ResultNames);
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
            if (op.RegionCount == 0) continue;
            foreach (var region in op.Regions)
                foreach (var inner in region.Blocks)
                    Walk(inner, scope.Nested(), dialects, ref merged);
        }
    }

    /// <summary>Whether two instances of <paramref name="op"/> with equal operands and attributes may be merged.</summary>
    public static bool IsCandidate(Operation op, DialectRegistry dialects) =>
        op.Results.Count > 0 && op.RegionCount == 0 && dialects.IsPure(op) && !dialects.Has(op, OpTraits.ConstantLike);

    /// <summary>What makes two operations compute the same: name, operands, attributes, result types.</summary>
    private sealed class Key : IEquatable<Key>
    {
        private readonly Operation _op;
        private readonly NamedAttr[] _attrs;
        private readonly int _hash;

        public Key(Operation op, IResultNames? names)
        {
            _op = op;
            // Every pure op of every function gets a key: loops, no LINQ.
            var attributes = op.Attributes;
            int kept = 0;
            for (int i = 0; i < attributes.Count; i++)
                if (names?.IsBookkeeping(attributes[i].Name) != true) kept++;
            _attrs = new NamedAttr[kept];
            for (int i = 0, k = 0; i < attributes.Count; i++)
                if (names?.IsBookkeeping(attributes[i].Name) != true) _attrs[k++] = attributes[i];
            var h = new HashCode();
            h.Add(op.Name);
            for (int i = 0; i < op.OperandCount; i++) h.Add(op.GetOperand(i));
            foreach (var a in _attrs) { h.Add(a.Name); h.Add(a.Value); }
            var results = op.Results;
            for (int i = 0; i < results.Count; i++) h.Add(results[i].Type);
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
