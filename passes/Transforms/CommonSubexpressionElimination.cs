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
        foreach (var block in module.FunctionBlocks()) Walk(block, new ScopedTable<Key>(null), context.Dialects, ref merged);
        if (merged > 0) context.Count("operations merged", merged);
        else context.MarkAllPreserved();
    }

    private static void Walk(Block block, ScopedTable<Key> scope, DialectRegistry dialects, ref long merged)
    {
        var names = dialects.ResultNames;
        var ops = block.Operations;
        // By index, no copy of the block: the only operation erased is the one at i, which the next one then takes the place of.
        for (int i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            if (IsCandidate(op, dialects))
            {
                var key = new Key(op, names);
                if (scope.Find(key) is { } first)
                {
                    for (int r = 0; r < op.Results.Count; r++) op.Results[r].ReplaceAllUsesWith(first.Results[r]);
                    first.Location = Location.Fuse(first.Location, op.Location);
                    op.Erase();
                    merged++;
                    i--;
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

    /// <summary>
    /// What makes two operations compute the same: name, operands, attributes (bookkeeping ones aside), result types.
    /// Hashed on the operands' identities and the name's length only: equal operations read the same values, so
    /// operations that merely look alike are few, and each key is made without hashing its attributes or types.
    /// </summary>
    private readonly struct Key : IEquatable<Key>
    {
        private readonly Operation _op;
        private readonly IResultNames? _names;
        private readonly int _hash;

        public Key(Operation op, IResultNames? names)
        {
            _op = op;
            _names = names;
            var h = new HashCode();
            h.Add(op.Name.Length);
            for (int i = 0; i < op.OperandCount; i++) h.Add(op.GetOperand(i));
            _hash = h.ToHashCode();
        }

        public bool Equals(Key other)
        {
            if (other._hash != _hash) return false;
            Operation a = _op, b = other._op;
            if (a.Name != b.Name || a.OperandCount != b.OperandCount || a.Results.Count != b.Results.Count) return false;
            for (int i = 0; i < a.OperandCount; i++)
                if (a.GetOperand(i) != b.GetOperand(i)) return false;
            for (int i = 0; i < a.Results.Count; i++)
                if (!Equals(a.Results[i].Type, b.Results[i].Type)) return false;
            return SameAttributes(a, b);
        }

        // The attributes in their (sorted) order, bookkeeping ones skipped on either side.
        private bool SameAttributes(Operation a, Operation b)
        {
            var x = a.AttributeSpan;
            var y = b.AttributeSpan;
            int i = 0, k = 0;
            while (true)
            {
                while (i < x.Length && IsBookkeeping(x[i])) i++;
                while (k < y.Length && IsBookkeeping(y[k])) k++;
                if (i == x.Length || k == y.Length) return i == x.Length && k == y.Length;
                if (!x[i].Equals(y[k])) return false;
                i++;
                k++;
            }
        }

        private bool IsBookkeeping(NamedAttr attr) => _names?.IsBookkeeping(attr.Name) == true;

        public override bool Equals(object? obj) => obj is Key k && Equals(k);
        public override int GetHashCode() => _hash;
    }
}
